# Console pages of this section; included by jianjian.console.urls under console/<slug>/, so
# each view takes ``slug`` and resolves the community with access.console_community_for().
from django.urls import URLPattern, path

from jianjian.console.operations import points, robots, tasks, tokens

urlpatterns: list[URLPattern] = [
    path("points/", points.point_list, name="ops-points"),
    path("points/add/", points.point_edit, name="ops-point-add"),
    path("points/<int:pk>/", points.point_edit, name="ops-point"),
    path("points/<int:pk>/closures/", points.point_closures, name="ops-closures"),
    path(
        "points/<int:pk>/closures/<int:closure_id>/end/",
        points.closure_end,
        name="ops-closure-end",
    ),
    path("points/<int:pk>/slots/", points.point_slots, name="ops-slots"),
    path("points/<int:pk>/distances/", points.point_distances, name="ops-distances"),
    path("disinfection/", tasks.task_list, name="ops-tasks"),
    path("disinfection/add/", tasks.task_edit, name="ops-task-add"),
    path("disinfection/<int:pk>/", tasks.task_edit, name="ops-task"),
    path("disinfection/<int:pk>/deactivate/", tasks.task_deactivate, name="ops-task-deactivate"),
    path("robots/", robots.robot_list, name="ops-robots"),
    path("robots/add/", robots.robot_edit, name="ops-robot-add"),
    path("robots/<int:pk>/", robots.robot_edit, name="ops-robot"),
    path("robots/<int:pk>/deactivate/", robots.robot_deactivate, name="ops-robot-deactivate"),
    path("robots/<int:pk>/test/", robots.robot_test, name="ops-robot-test"),
    path(
        "robots/<int:pk>/messages/<int:message_id>/",
        robots.robot_message,
        name="ops-robot-message",
    ),
    path("tokens/", tokens.token_list, name="ops-tokens"),
    path("tokens/add/", tokens.token_issue, name="ops-token-add"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="ops-token-revoke"),
]
