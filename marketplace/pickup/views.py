"""Seller back office for pickup locations, weekly templates and slots (owner and manager)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l
from marketplace.organizations.access import member_required, owned_or_404
from marketplace.organizations.models import Role
from marketplace.pickup import services
from marketplace.pickup.forms import (
    CloseSlotForm,
    ConfirmForm,
    EditTemplateForm,
    LocationForm,
    SlotForm,
    TemplateForm,
    weekday_names,
)
from marketplace.pickup.models import PickupLocation, PickupSlot, SlotTemplate
from marketplace.pickup.services import SlotState

bp = Blueprint("pickup", __name__)


@bp.record_once
def _register_template_globals(state) -> None:
    # The product page (catalog, below pickup) shows the next slots without importing pickup.
    state.app.add_template_global(services.next_slots, "pickup_next_slots")

WEEKS_AHEAD = services.DEFAULT_WEEKS_AHEAD  # what the pages say, and what "publish" creates
# The one-off slot form shares the location page with the weekly slot form: distinct field ids.
SLOT_FORM_PREFIX = "one-off"

SLOT_STATE_LABELS = {
    SlotState.OPEN: _l("Open"),
    SlotState.FULL: _l("Full"),
    SlotState.PAST_CUTOFF: _l("Orders closed (too close to the slot)"),
    SlotState.CLOSED: _l("Closed"),
    SlotState.PAST: _l("Under way"),
}


@bp.context_processor
def _labels():
    return {"SLOT_STATE_LABELS": SLOT_STATE_LABELS, "weekday_names": weekday_names}


# --- locations -------------------------------------------------------------------------------


@bp.get("/orgs/<int:org_id>/pickup")
@member_required(Role.MANAGER)
def locations(organization, membership):
    return render_template(
        "pickup/locations.html", organization=organization, membership=membership,
        locations=services.locations_of(organization.id), weeks=WEEKS_AHEAD,
    )


@bp.route("/orgs/<int:org_id>/pickup/new", methods=["GET", "POST"])
@member_required(Role.MANAGER)
def new_location(organization, membership):
    form = LocationForm()
    if form.validate_on_submit():
        try:
            location = services.save_location(
                None, organization, by=current_user, **form.fields_for_service()
            )
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("The pickup location “%(name)s” was created. Now add its weekly opening slots.",
                    name=location.name), "success")
            return redirect(url_for(".location", org_id=organization.id, location_id=location.id))
    return render_template(
        "pickup/location_form.html", organization=organization, membership=membership,
        form=form, location=None,
    ), 400 if request.method == "POST" else 200


@bp.route("/orgs/<int:org_id>/pickup/<int:location_id>/edit", methods=["GET", "POST"])
@member_required(Role.MANAGER)
def edit_location(organization, membership, location_id: int):
    location = _location_or_404(organization, location_id)
    form = LocationForm(obj=location)
    if form.validate_on_submit():
        try:
            services.save_location(location, organization, by=current_user, **form.fields_for_service())
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("The pickup location “%(name)s” was saved.", name=location.name), "success")
            return redirect(url_for(".location", org_id=organization.id, location_id=location.id))
    return render_template(
        "pickup/location_form.html", organization=organization, membership=membership,
        form=form, location=location,
    ), 400 if request.method == "POST" else 200


@bp.get("/orgs/<int:org_id>/pickup/<int:location_id>")
@member_required(Role.MANAGER)
def location(organization, membership, location_id: int):
    return _render_location(organization, membership, _location_or_404(organization, location_id))


# --- weekly templates ------------------------------------------------------------------------


@bp.post("/orgs/<int:org_id>/pickup/<int:location_id>/templates")
@member_required(Role.MANAGER)
def add_template(organization, membership, location_id: int):
    location = _location_or_404(organization, location_id)
    form = TemplateForm()
    if form.validate_on_submit() and _save_template(None, location, form):
        return _back_to(location)
    return _render_location(organization, membership, location, template_form=form, status=400)


@bp.route("/orgs/<int:org_id>/pickup/<int:location_id>/templates/<int:template_id>",
          methods=["GET", "POST"])
@member_required(Role.MANAGER)
def edit_template(organization, membership, location_id: int, template_id: int):
    location = _location_or_404(organization, location_id)
    template = _template_or_404(location, template_id)
    form = EditTemplateForm(obj=template)
    if form.validate_on_submit() and _save_template(template, location, form):
        return _back_to(location)
    return render_template(
        "pickup/template_form.html", organization=organization, membership=membership,
        location=location, template=template, form=form,
    ), 400 if request.method == "POST" else 200


@bp.post("/orgs/<int:org_id>/pickup/<int:location_id>/templates/<int:template_id>/deactivate")
@member_required(Role.MANAGER)
def deactivate_template(organization, membership, location_id: int, template_id: int):
    return _set_template_active(organization, location_id, template_id, False)


@bp.post("/orgs/<int:org_id>/pickup/<int:location_id>/templates/<int:template_id>/activate")
@member_required(Role.MANAGER)
def activate_template(organization, membership, location_id: int, template_id: int):
    return _set_template_active(organization, location_id, template_id, True)


@bp.post("/orgs/<int:org_id>/pickup/<int:location_id>/generate")
@member_required(Role.MANAGER)
def generate(organization, membership, location_id: int):
    location = _location_or_404(organization, location_id)
    if ConfirmForm().validate_on_submit():
        created = services.generate_slots(location, weeks=WEEKS_AHEAD)
        _flash_generated(location, len(created))
    return _back_to(location, "slots")


# --- slots -----------------------------------------------------------------------------------


@bp.post("/orgs/<int:org_id>/pickup/<int:location_id>/slots")
@member_required(Role.MANAGER)
def add_slot(organization, membership, location_id: int):
    location = _location_or_404(organization, location_id)
    form = SlotForm(prefix=SLOT_FORM_PREFIX)
    if form.validate_on_submit():
        try:
            services.add_slot(
                location, starts_at=form.starts_at(), ends_at=form.ends_at(),
                capacity=form.capacity.data, cutoff_hours=form.cutoff_hours.data, by=current_user,
            )
        except DomainError as exc:
            form.day.errors.append(str(exc.message))
        else:
            flash(_("The slot was added."), "success")
            return _back_to(location, "slots")
    return _render_location(organization, membership, location, slot_form=form, status=400)


@bp.post("/orgs/<int:org_id>/pickup/<int:location_id>/slots/<int:slot_id>/close")
@member_required(Role.MANAGER)
def close_slot(organization, membership, location_id: int, slot_id: int):
    location = _location_or_404(organization, location_id)
    slot = _slot_or_404(location, slot_id)
    form = CloseSlotForm(prefix=f"slot-{slot.id}")
    if form.validate_on_submit():
        try:
            services.close_slot(slot, reason=form.reason.data, by=current_user)
        except DomainError as exc:
            form.reason.errors.append(str(exc.message))
        else:
            if slot.booked:
                flash(ngettext(
                    "The slot is closed. %(num)d order was already booked in it: contact the shopper.",
                    "The slot is closed. %(num)d orders were already booked in it: contact the shoppers.",
                    slot.booked,
                ), "warning")
            else:
                flash(_("The slot is closed: shoppers can no longer choose it."), "success")
            return _back_to(location, "slots")
    return _render_location(organization, membership, location, close_forms={slot.id: form}, status=400)


@bp.post("/orgs/<int:org_id>/pickup/<int:location_id>/slots/<int:slot_id>/reopen")
@member_required(Role.MANAGER)
def reopen_slot(organization, membership, location_id: int, slot_id: int):
    location = _location_or_404(organization, location_id)
    slot = _slot_or_404(location, slot_id)
    if ConfirmForm().validate_on_submit():
        services.reopen_slot(slot, by=current_user)
        flash(_("The slot is open again."), "success")
    return _back_to(location, "slots")


# --- helpers ---------------------------------------------------------------------------------


def _location_or_404(organization, location_id: int) -> PickupLocation:
    return owned_or_404(PickupLocation, location_id, organization)


def _template_or_404(location: PickupLocation, template_id: int) -> SlotTemplate:
    template = next((t for t in location.templates if t.id == template_id), None)
    if template is None:
        abort(404)
    return template


def _slot_or_404(location: PickupLocation, slot_id: int) -> PickupSlot:
    slot = services.slot_of(location, slot_id)
    if slot is None:
        abort(404)
    return slot


def _save_template(template: SlotTemplate | None, location: PickupLocation,
                   form: TemplateForm) -> bool:
    """Save the template and publish its slots at once; False if refused (the caller answers
    400: nothing of it is kept)."""
    try:
        saved = services.save_template(template, location, by=current_user, **form.fields_for_service())
        created = services.generate_slots(location, weeks=WEEKS_AHEAD)
    except DomainError as exc:
        flash(str(exc.message), "error")
        return False
    flash(_("The weekly slot was saved."), "success")
    if saved.is_active:
        _flash_generated(location, len(created))
    return True


def _set_template_active(organization, location_id: int, template_id: int, active: bool):
    location = _location_or_404(organization, location_id)
    template = _template_or_404(location, template_id)
    if ConfirmForm().validate_on_submit():
        services.save_template(
            template, location, weekday=template.weekday, start_time=template.start_time,
            end_time=template.end_time, capacity=template.capacity,
            cutoff_hours=template.cutoff_hours, is_active=active, by=current_user,
        )
        created = services.generate_slots(location, weeks=WEEKS_AHEAD) if active else []
        if active:
            flash(_("The weekly slot is active again."), "success")
            _flash_generated(location, len(created))
        else:
            flash(_("The weekly slot is paused: no new slot will be published. Slots already "
                    "published stay open; close them below if needed."), "success")
    return _back_to(location)


def _flash_generated(location: PickupLocation, count: int) -> None:
    if not location.is_active:
        flash(_("This pickup location is inactive: no slot is published until you activate it."),
              "warning")
    elif count:
        flash(ngettext("%(num)d new slot was published.", "%(num)d new slots were published.",
                       count), "success")
    else:
        flash(_("No new slot to publish: the coming weeks are already there."), "info")


def _render_location(organization, membership, location, *, template_form=None, slot_form=None,
                     close_forms=None, status=200):
    slots = services.upcoming_slots(organization.id, days=WEEKS_AHEAD * 7, location_id=location.id)
    close_forms = close_forms or {}
    rows = [
        (slot, services.slot_state(slot),
         close_forms.get(slot.id) or CloseSlotForm(prefix=f"slot-{slot.id}", formdata=None))
        for slot in slots
    ]
    return render_template(
        "pickup/location.html",
        organization=organization,
        membership=membership,
        location=location,
        rows=rows,
        template_form=template_form or TemplateForm(formdata=None),
        slot_form=slot_form or SlotForm(prefix=SLOT_FORM_PREFIX, formdata=None),
        weeks=WEEKS_AHEAD,
    ), status


def _back_to(location: PickupLocation, section: str | None = None):
    return redirect(url_for(
        ".location", org_id=location.organization_id, location_id=location.id, _anchor=section
    ))
