"""Online appointments against each supplier's time-slot capacity. Booking is one conditional
UPDATE … SET booked = booked + 1 WHERE booked < capacity, so concurrent bookings of the last
place never overbook: exactly one gets it."""
import datetime as dt

from flask_babel import lazy_gettext as _l

from console.common.clock import local_to_utc
from console.common.tx import writing
from console.db import utcnow
from console.models import Appointment, SupplierTimeSlot
from console.orders.engine import OrderInputError, OrderStateError
from console.system import audit, params


def _capacity(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise OrderInputError("capacity", _l("Capacity: a whole number from 1 to 1000."))
    return value


def open_slots(supplier, date, starts, capacity=None, actor=None):
    """Create the supplier's slots of one day (start times as datetime.time); a slot that
    already exists keeps its bookings and gets the new capacity if that is not below them.
    Without a capacity, the default of the supplier's city (参数设置 appointments.slot_capacity)."""
    if capacity is None:
        capacity = params.param("appointments.slot_capacity", city=supplier.city_id)
    capacity = _capacity(capacity)
    if not isinstance(date, dt.date):
        raise OrderInputError("date", _l("Date: a calendar date."))
    slots = []
    with writing():
        for start in sorted(set(starts)):
            slot, created = SupplierTimeSlot.get_or_create(
                supplier=supplier.id, date=date, start=start,
                defaults={"capacity": capacity, "organization": supplier.organization_id})
            if not created:
                SupplierTimeSlot.update(capacity=capacity).where(
                    SupplierTimeSlot.id == slot.id,
                    SupplierTimeSlot.booked <= capacity).execute()
            slots.append(slot)
        audit.record("open_slots", supplier, None,
                     {"date": date.isoformat(), "starts": [s.strftime("%H:%M") for s in starts],
                      "capacity": capacity}, actor=actor)
    return slots


def free_slots(supplier, date_from, date_to):
    return list(SupplierTimeSlot.select().where(
        SupplierTimeSlot.supplier == supplier.id, SupplierTimeSlot.date >= date_from,
        SupplierTimeSlot.date <= date_to, SupplierTimeSlot.booked < SupplierTimeSlot.capacity)
        .order_by(SupplierTimeSlot.date, SupplierTimeSlot.start))


BOOKABLE_STATES = {"placed", "awaiting_grab", "assigned"}


def book_for_order(order, slot, actor, now=None):
    """A customer books a slot for an order placed earlier: only before the car reaches the
    shop, and one booked slot per order."""
    if order.status not in BOOKABLE_STATES or order.supplier_id is None:
        raise OrderStateError("illegal_move", _l(
            "Order %(order_no)s can no longer be booked at a shop.", order_no=order.order_no))
    with writing():
        if Appointment.select().where(Appointment.order == order.id,
                                      Appointment.status == "booked").exists():
            raise OrderStateError("already_booked", _l(
                "Order %(order_no)s already has a booked time slot.", order_no=order.order_no))
        appointment = book(order, slot, now)
        audit.record("book_appointment", order, None, {"slot": slot.id}, actor=actor)
    return appointment


def book(order, slot, now=None):
    """Take one place of `slot` for `order` (call inside the placing transaction)."""
    if slot.supplier_id != order.supplier_id:
        raise OrderInputError("slot", _l("Appointment: the time slot belongs to another "
                                         "supplier."))
    if local_to_utc(dt.datetime.combine(slot.date, slot.start)) <= (now or utcnow()):
        raise OrderInputError("slot", _l("Appointment: the time slot has already begun."))
    with writing():
        taken = SupplierTimeSlot.update(booked=SupplierTimeSlot.booked + 1).where(
            SupplierTimeSlot.id == slot.id,
            SupplierTimeSlot.booked < SupplierTimeSlot.capacity).execute()
        if not taken:
            raise OrderInputError("slot", _l("Appointment: the time slot is fully booked; "
                                             "choose another."))
        return Appointment.create(order=order.id, slot=slot.id)


def release(order):
    """Give back the places of an order's booked appointments (order cancelled)."""
    with writing():
        for appointment in Appointment.select().where(Appointment.order == order.id,
                                                      Appointment.status == "booked"):
            released = Appointment.update(status="cancelled").where(
                Appointment.id == appointment.id, Appointment.status == "booked").execute()
            if released:
                SupplierTimeSlot.update(booked=SupplierTimeSlot.booked - 1).where(
                    SupplierTimeSlot.id == appointment.slot_id,
                    SupplierTimeSlot.booked > 0).execute()


def complete(order):
    Appointment.update(status="done").where(Appointment.order == order.id,
                                            Appointment.status == "booked").execute()
