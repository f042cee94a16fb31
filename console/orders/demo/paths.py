"""The demo's calendar and each demo order's path through its lifecycle.

The calendar spreads N orders over two years with a growth trend, spring and autumn peaks, the
Spring Festival dip, busier weekends for detailing and Friday/Saturday nights for designated
driving. A path is a walk over `console.orders.states.TRANSITIONS` — the same table the engine
applies — so every generated history is a sequence of moves the engine would accept; weights
and delays only make the walk look like real work."""
import datetime as dt
import math

from console.orders.states import (
    BUTLER,
    CUSTOMER,
    DISPATCHER,
    FAMILY_OF,
    FINAL,
    INITIAL,
    SERVICE,
    SUPPLIER,
    SYSTEM,
    TRANSITIONS,
)

TZ_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai has no daylight saving time
TYPE_SHARES = {"maintenance": 0.34, "detailing": 0.20, "insurance": 0.07, "parts": 0.09,
               "rental": 0.05, "used_car": 0.03, "towing": 0.05, "designated_driving": 0.15,
               "vip": 0.02}
SPRING_FESTIVALS = (dt.date(2024, 2, 10), dt.date(2025, 1, 29), dt.date(2026, 2, 17),
                    dt.date(2027, 2, 6))

# (family, state) -> [(action, to_state, roles)], in table order
MOVES_FROM = {}
for (_family, _state, _action), (_to, _roles) in TRANSITIONS.items():
    MOVES_FROM.setdefault((_family, _state), []).append((_action, _to, _roles))

# How likely each move is when it is possible (1.0 when not listed): the happy path dominates
WEIGHTS = {"cancel": 0.035, "refund": 0.012, "complain": 0.02, "reject_quote": 0.06,
           "refuse": 0.08, "assign": 0.3, "request_rework": 0.025, "post_progress": 0.25,
           "review": 0.55, "close": 0.45, "confirm_cost_change": 0, "reject_cost_change": 0,
           "publish": 0, "settle_rework": 0, "expire": 0}
LIMITS = {"refuse": 2, "request_rework": 1, "complain": 1, "post_progress": 2, "assign": 2,
          "refund": 1, "review": 1}
AFTER_FINAL = 0.03  # share of finished orders that still see a complaint or refund
# minutes before a move happens: (low, high), drawn log-uniformly
DELAYS = {"grab": (1, 9), "assign": (10, 25), "refuse": (2, 12), "pick_up": (20, 90),
          "arrive": (20, 80), "quote": (30, 240), "confirm_quote": (5, 300),
          "reject_quote": (10, 600), "post_progress": (30, 300), "finish_repair": (60, 2880),
          "pay": (5, 360), "return_car": (60, 1440), "review": (60, 4320),
          "request_rework": (600, 7200), "close": (4320, 10080), "cancel": (5, 600),
          "complain": (60, 10080), "refund": (600, 10080), "issue_policy": (30, 1440),
          "ship": (120, 2880), "deliver": (1440, 5760), "pick_up_rental": (600, 4320),
          "return_rental": (1440, 10080), "settle": (30, 600), "value": (600, 4320),
          "match": (1440, 20160), "depart": (3, 20), "finish_tow": (30, 180),
          "start_trip": (5, 30), "end_trip": (10, 90), "activate": (0, 0), "expire": (0, 0)}
SELF_DRIVE_ARRIVAL = (120, 4320)  # the customer drives in at the appointment
DETAILING_REPAIR = (40, 360)
ROLE_WEIGHTS = {CUSTOMER: 4, BUTLER: 4, SUPPLIER: 2, SYSTEM: 3, SERVICE: 1, DISPATCHER: 3}


# ---- the calendar ------------------------------------------------------------------------
def _bump(day, centre, width):
    """A smooth seasonal bump around `centre` (month, day), repeated every year."""
    target = dt.date(day.year, *centre)
    distance = min(abs((day - target.replace(year=y)).days) for y in (day.year - 1, day.year,
                                                                      day.year + 1))
    return math.exp(-(distance / width) ** 2)


def _festival_dip(day):
    nearest = min(abs((day - festival).days) for festival in SPRING_FESTIVALS)
    return 1 - 0.45 * math.exp(-(nearest / 6) ** 2)


def day_factor(day, order_type, progress):
    """Relative demand of `order_type` on local date `day`; `progress` runs 0 → 1 over the
    span (the growth trend)."""
    weekday = day.weekday()  # Monday 0 .. Sunday 6
    factor = (0.6 + 0.9 * progress ** 1.2) * _festival_dip(day)
    factor *= 1 + 0.35 * _bump(day, (4, 15), 28) + 0.3 * _bump(day, (10, 20), 28)
    if order_type == "detailing":
        factor *= (1.9 if weekday >= 5 else 1.0) * (1 + 0.3 * _bump(day, (7, 15), 30))
    elif order_type == "designated_driving":
        factor *= 1.6 if weekday in (4, 5) else 1.0
        factor *= 1 + 0.5 * _bump(day, (12, 28), 10)
    elif order_type == "rental":
        factor *= (1.3 if weekday == 4 else 1.0) * (1 + 1.2 * _bump(day, (10, 3), 4))
    elif order_type in ("maintenance", "insurance", "parts", "used_car"):
        factor *= (1.15 if weekday == 5 else 0.8 if weekday == 6 else 1.0)
    return factor


def daily_counts(total, first_day, days, types, rng, last_share=1.0):
    """[(local date, {order type: count})] summing exactly to `total`; the last day gets
    `last_share` of its demand (today: only the hours gone by)."""
    cells = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        progress = offset / max(1, days - 1)
        share = last_share if offset == days - 1 else 1.0
        for order_type in types:
            noise = math.exp(rng.gauss(0, 0.08))
            cells.append((day, order_type, share * noise * TYPE_SHARES[order_type]
                          * day_factor(day, order_type, progress)))
    scale = total / sum(weight for _d, _t, weight in cells)
    counts = [int(weight * scale) for _d, _t, weight in cells]
    # the rest by chance, in proportion to what rounding down left out (small runs keep
    # every type instead of giving all of it to the biggest cells)
    fractions = [weight * scale - count for (_d, _t, weight), count in zip(cells, counts,
                                                                          strict=True)]
    if total > sum(counts):
        for index in rng.choices(range(len(cells)), weights=fractions, k=total - sum(counts)):
            counts[index] += 1
    by_day = {}
    for (day, order_type, _weight), count in zip(cells, counts, strict=True):
        if count:
            by_day.setdefault(day, {})[order_type] = count
    return sorted(by_day.items())


HOURS = {  # local hour weights, 0..23
    "day": [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 1, 2.5, 4, 5, 4.5, 3, 3.5, 4.5, 5, 4.5, 3.5,
            2.5, 2, 1.6, 1.2, 0.8, 0.4],
    "night": [3, 2, 1, 0.5, 0.2, 0.1, 0.1, 0.2, 0.3, 0.3, 0.3, 0.4, 0.8, 0.6, 0.4, 0.4, 0.5,
              0.8, 1.5, 3, 4.5, 5.5, 5.5, 4.5],
}


def placed_times(rng, day, order_type, count, until=None):
    """`count` UTC placing times on local date `day`, whole seconds, none after `until`."""
    weights = HOURS["night" if order_type == "designated_driving" else "day"]
    hours = rng.choices(range(24), weights=weights, k=count)
    midnight = dt.datetime(day.year, day.month, day.day) - TZ_OFFSET
    times = [midnight + dt.timedelta(hours=h, seconds=rng.randrange(3600)) for h in hours]
    if until is not None:
        elapsed = max(1, int((until - midnight).total_seconds()))
        times = [t if t <= until else midnight + dt.timedelta(seconds=rng.randrange(elapsed))
                 for t in times]
    return times


# ---- an order's path -----------------------------------------------------------------------
def _bounds(family, state, action):
    if action == "arrive" and state == "placed":
        low, high = SELF_DRIVE_ARRIVAL
    elif family == "rental" and action in ("pick_up", "return_car"):
        low, high = DELAYS["pick_up_rental" if action == "pick_up" else "return_rental"]
    else:
        low, high = DELAYS.get(action, (10, 600))
    return (math.log(max(low, 0.5)), math.log(max(high, 0.5))) if high > 0 else (None, None)


def _role_table(roles, action, with_butler):
    """[(role, cumulative weight)] of who makes the move; a butler only once one holds the
    order, except for the grab from the task hall."""
    if action == "assign":
        return [(DISPATCHER, 0.9), (SYSTEM, 1.0)] if SYSTEM in roles else [(DISPATCHER, 1.0)]
    table, total = [], 0.0
    for role in sorted(roles):
        if role == BUTLER and not (with_butler or action == "grab"):
            continue
        total += ROLE_WEIGHTS[role]
        table.append((role, total))
    return [(role, cumulative / total) for role, cumulative in table]


class _Move:
    """One row of the table as the walk uses it, with its draws prepared."""
    __slots__ = ("action", "to", "weight", "limit", "roles", "low", "high")

    def __init__(self, family, state, action, to, roles):
        self.action, self.to = action, to
        self.weight = 1.0 if action == "settle_rework" else WEIGHTS.get(action, 1.0)
        self.limit = LIMITS.get(action, 99)
        self.roles = {True: _role_table(roles, action, True),
                      False: _role_table(roles, action, False)}
        self.low, self.high = _bounds(family, state, action)


# (family, state) -> moves the walk may take (the guards it cannot meet are left out)
WALK_MOVES = {key: [_Move(key[0], key[1], action, to, roles) for action, to, roles in moves
                    if WEIGHTS.get(action, 1.0) > 0 or action == "settle_rework"]
              for key, moves in MOVES_FROM.items()}


def _shop_hours(at, rng):
    """Shops work 08:00–20:00 local: a shop's move outside those hours waits for the morning."""
    hour = (at + TZ_OFFSET).hour
    if 8 <= hour < 20:
        return at
    local = at + TZ_OFFSET
    morning = local.replace(hour=8, minute=0, second=0) + dt.timedelta(
        days=1 if hour >= 20 else 0, seconds=rng.randrange(3 * 3600))
    return morning - TZ_OFFSET


class Profile:
    """What the walk needs to know about an order besides its state."""
    __slots__ = ("order_type", "family", "needs_butler", "vip_months")

    def __init__(self, order_type, needs_butler, vip_months=None):
        self.order_type = order_type
        self.family = FAMILY_OF[order_type]
        self.needs_butler = needs_butler
        self.vip_months = vip_months


def _possible(move, state, profile, flags, done):
    """The engine's guards, and the demo's own limits, for a move in the table."""
    action = move.action
    if action == "arrive" and state == "placed" and profile.needs_butler:
        return False
    if action == "pay" and flags[1]:
        return False  # after a rework nothing is due: the system settles it instead
    if action == "settle_rework":
        return flags[1] and flags[2]
    return done.get(action, 0) < move.limit


def _choose(rng, options):
    point = rng.random() * sum(move.weight for move in options)
    for move in options:
        point -= move.weight
        if point < 0:
            return move
    return options[-1]


def _role(rng, table):
    point = rng.random()
    for role, cumulative in table:
        if point < cumulative:
            return role
    return table[-1][0]


def _delay(rng, move, profile):
    if move.action == "finish_repair" and profile.order_type == "detailing":
        low, high = (math.log(x) for x in DETAILING_REPAIR)
    else:
        low, high = move.low, move.high
    if low is None:
        return ZERO
    return dt.timedelta(seconds=int(60 * math.exp(low + (high - low) * rng.random())))


ZERO = dt.timedelta(0)
# flags: [0] a butler holds the order, [1] it is paid, [2] a rework is open
FLAG_EFFECTS = {"grab": (0, True), "assign": (0, True), "refuse": (0, False), "pay": (1, True),
                "request_rework": (2, True), "settle_rework": (2, False)}


def walk(rng, profile, placed_at, now):
    """The moves of one order placed at `placed_at`, as seen at `now`:
    [(action, from_state, to_state, actor_role, at)], starting with the placing."""
    family = profile.family
    finals = FINAL[family]
    state = str(INITIAL[family])
    steps = [("place", None, state, CUSTOMER, placed_at)]
    at = placed_at
    if family == "repair" and profile.needs_butler:  # the engine publishes it while placing
        steps.append(("publish", state, "awaiting_grab", SYSTEM, at))
        state = "awaiting_grab"
    flags = [False, False, False]
    done = {}
    while True:
        final = state in finals
        if family == "vip" and state == "active":
            ends = at + dt.timedelta(days=30 * profile.vip_months)
            if ends <= now:
                steps.append(("expire", state, "expired", SYSTEM, ends))
            return steps
        if final:  # a few finished orders still see a complaint or a refund
            if "after_final" in done or rng.random() >= AFTER_FINAL:
                return steps
            done["after_final"] = 1
        options = [move for move in WALK_MOVES.get((family, state), ())
                   if (not final or move.action in ("complain", "refund"))
                   and _possible(move, state, profile, flags, done)]
        if not options:
            return steps
        move = _choose(rng, options)
        role = _role(rng, move.roles[flags[0]])
        when = at + _delay(rng, move, profile)
        if role == SUPPLIER:
            when = _shop_hours(when, rng)
        if when > now:
            return steps  # still under way at `now`
        action, to = move.action, move.to
        steps.append((action, state, to, role, when))
        done[action] = done.get(action, 0) + 1
        if action in FLAG_EFFECTS:
            index, value = FLAG_EFFECTS[action]
            flags[index] = value
        if action == "pay" and family == "vip":  # the engine activates it with the payment
            steps.append(("activate", to, "active", SYSTEM, when))
            to = "active"
        state, at = to, when
