from django.urls import path

from jianjian.web.counter import intake, parcels, pickup, returns

app_name = "counter"

urlpatterns = [
    path("", parcels.choose_point, name="choose"),
    path("<int:point_id>/", intake.intake_screen, name="intake"),
    path("<int:point_id>/scan/", intake.intake_scan, name="scan"),
    path("<int:point_id>/suggest/", intake.suggest, name="suggest"),
    path("<int:point_id>/pickup/", pickup.pickup_screen, name="pickup"),
    path("<int:point_id>/pickup/lookup/", pickup.pickup_lookup, name="lookup"),
    path("<int:point_id>/pickup/hand-over/", pickup.pickup_hand_over, name="hand_over"),
    path("<int:point_id>/returns/", returns.returns_screen, name="returns"),
    path("<int:point_id>/returns/scan/", returns.returns_scan, name="return_scan"),
    path("<int:point_id>/parcels/", parcels.on_hand_list, name="parcels"),
    path("<int:point_id>/parcels/<int:parcel_id>/", parcels.parcel_detail, name="parcel"),
    path("<int:point_id>/parcels/<int:parcel_id>/label.pdf", parcels.parcel_label, name="label"),
    path("<int:point_id>/labels.pdf", parcels.queued_labels, name="labels"),
    path("<int:point_id>/labels/clear/", parcels.clear_labels, name="clear_labels"),
]
