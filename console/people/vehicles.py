"""Customers' vehicles: plate and VIN checked and unique among live vehicles; never
deleted, only removed from the customer's list."""

from flask_babel import gettext as _

from console.common.validators import InvalidValue, validate_plate, validate_vin
from console.db import db, utcnow
from console.models import (
    Vehicle,
)
from console.people.checks import reason_text
from console.system import audit


def check_vehicle(vehicle):
    """Normalize and validate a vehicle; plate and VIN must be unique among live vehicles."""
    vehicle.plate = validate_plate(vehicle.plate)
    vehicle.vin = validate_vin(vehicle.vin)
    if vehicle.car_model_id is None:
        raise InvalidValue("car_model", _("Car model: required"))
    this_year = utcnow().year
    if vehicle.purchase_year is not None and not 1980 <= vehicle.purchase_year <= this_year:
        raise InvalidValue("purchase_year", _("Purchase year: must be between 1980 and "
                                              "%(year)d", year=this_year))
    if (vehicle.mileage_km or 0) < 0:
        raise InvalidValue("mileage_km", _("Mileage: cannot be negative"))
    vehicle.organization = vehicle.customer.organization_id
    live = Vehicle.select().where(Vehicle.is_deleted == False)  # noqa: E712
    if vehicle.id:
        live = live.where(Vehicle.id != vehicle.id)
    if live.where(Vehicle.plate == vehicle.plate).exists():
        raise InvalidValue("plate", _("Plate: %(plate)s is already registered to another "
                                      "vehicle", plate=vehicle.plate))
    if live.where(Vehicle.vin == vehicle.vin).exists():
        raise InvalidValue("vin", _("VIN: %(vin)s is already registered to another vehicle",
                                    vin=vehicle.vin))
    return vehicle


def add_vehicle(customer, plate, vin, car_model, actor=None, **extra):
    vehicle = Vehicle(customer=customer, plate=plate, vin=vin, car_model=car_model, **extra)
    check_vehicle(vehicle)
    with db.atomic():
        vehicle.save(force_insert=True)
        audit.record("create", vehicle, None, audit.snapshot(vehicle), actor=actor)
    return vehicle


def remove_vehicle(vehicle, actor, reason):
    """Vehicles are never deleted: they leave the customer's list and free the plate."""
    reason = reason_text(reason)
    with db.atomic():
        Vehicle.update(is_deleted=True).where(Vehicle.id == vehicle.id).execute()
        audit.record("remove", vehicle, {"is_deleted": False}, {"is_deleted": True},
                     note=reason, actor=actor)
