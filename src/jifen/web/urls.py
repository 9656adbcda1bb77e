from django.urls import path

from jifen.web import claims_portal, dashboard, portal, review, views, workbench

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("me/", portal.my_points, name="portal"),
    path("workbench/", workbench.search, name="workbench"),
    path("workbench/residents/<uuid:pk>/", workbench.resident_detail, name="resident"),
    path(
        "workbench/residents/<uuid:pk>/reveal",
        workbench.reveal_identity,
        name="reveal_identity",
    ),
    path("workbench/feeds/", workbench.feed_batches, name="feed_batches"),
    path("workbench/feeds/<int:pk>/", workbench.feed_batch, name="feed_batch"),
    # Claims and review (issue 4): the portal's applications and corrections, the window
    # clerk's filing, the review workbench, the dashboard, evidence files.
    path("me/claims/", claims_portal.claim_list, name="claims"),
    path("me/claims/new/", claims_portal.claim_new, name="claim_new"),
    path("me/claims/<uuid:pk>/", claims_portal.claim_detail, name="claim"),
    path("me/claims/<uuid:pk>/edit/<slug:step>/", claims_portal.claim_step, name="claim_step"),
    path("me/claims/<uuid:pk>/withdraw", claims_portal.claim_withdraw, name="claim_withdraw"),
    path(
        "me/claims/<uuid:pk>/tasks/<int:task>/supplement",
        claims_portal.claim_supplement,
        name="claim_supplement",
    ),
    path("me/corrections/<int:fact>/", claims_portal.correction_new, name="correction_new"),
    path("evidence/<uuid:pk>", review.evidence_file, name="evidence"),
    path(
        "workbench/residents/<uuid:pk>/claims/",
        claims_portal.resident_claims,
        name="resident_claims",
    ),
    path(
        "workbench/residents/<uuid:pk>/claims/new/",
        claims_portal.window_claim_new,
        name="window_claim_new",
    ),
    path("workbench/claims/<uuid:pk>/", claims_portal.staff_claim, name="staff_claim"),
    path(
        "workbench/claims/<uuid:pk>/edit/<slug:step>/",
        claims_portal.window_claim_step,
        name="window_claim_step",
    ),
    path(
        "workbench/claims/<uuid:pk>/withdraw",
        claims_portal.staff_claim_withdraw,
        name="staff_claim_withdraw",
    ),
    path(
        "workbench/claims/<uuid:pk>/tasks/<int:task>/supplement",
        claims_portal.staff_claim_supplement,
        name="staff_claim_supplement",
    ),
    path("workbench/review/", review.queue, name="review_queue"),
    path("workbench/review/<int:pk>/", review.task_detail, name="review_task"),
    path("workbench/review/<int:pk>/<slug:action>", review.task_action, name="review_action"),
    path("workbench/dashboard/", dashboard.review_dashboard, name="review_dashboard"),
]

# Inbox (notifications) and the center's working-day calendar (issue 4, infra).
from jifen.calendars import views as calendar_views  # noqa: E402
from jifen.notifications import views as inbox_views  # noqa: E402

urlpatterns += [
    path("me/inbox/", inbox_views.resident_inbox, name="inbox"),
    path("workbench/inbox/", inbox_views.staff_inbox, name="staff_inbox"),
    path("inbox/<int:pk>/read", inbox_views.read, name="inbox_read"),
    path("inbox/read-all", inbox_views.read_all, name="inbox_read_all"),
    path("workbench/calendar/", calendar_views.overview, name="calendar"),
    path("workbench/calendar/<int:year>/", calendar_views.year_days, name="calendar_year"),
    path("workbench/calendar/day", calendar_views.set_day, name="calendar_set_day"),
    path("workbench/calendar/import", calendar_views.import_notice, name="calendar_import"),
]

# Scenarios, enrollment, rankings, publication, re-examination and fraud (issue 5, pages5).
from jifen.web import publications  # noqa: E402
from jifen.web import scenarios_portal as sp  # noqa: E402
from jifen.web import scenarios_workbench as sw  # noqa: E402

urlpatterns += [
    path("me/scenarios/", sp.scenario_list, name="scenarios"),
    path("me/scenarios/<int:pk>/", sp.scenario_detail, name="scenario"),
    path("me/scenarios/enrollments/<uuid:pk>/", sp.enrollment_detail, name="enrollment"),
    path(
        "me/scenarios/enrollments/<uuid:pk>/withdraw",
        sp.enrollment_withdraw,
        name="enrollment_withdraw",
    ),
    path(
        "me/scenarios/enrollments/<uuid:pk>/reexamine",
        sp.reexamination_file,
        name="reexamination_file",
    ),
    path("me/reexaminations/<uuid:pk>/", sp.reexamination_detail, name="my_reexamination"),
    path("public/publications/<int:pk>/", publications.publication_page, name="publication"),
    path(
        "public/publications/<int:pk>/list.xlsx",
        publications.publication_excel,
        name="publication_xlsx",
    ),
    path(
        "public/publications/<int:pk>/notice.pdf",
        publications.publication_pdf,
        name="publication_pdf",
    ),
    path("workbench/scenarios/", sw.scenario_list, name="staff_scenarios"),
    path("workbench/scenarios/<int:pk>/", sw.scenario_detail, name="staff_scenario"),
    path("workbench/scenarios/<int:pk>/draft/", sw.version_draft, name="staff_scenario_draft"),
    path(
        "workbench/scenarios/<int:pk>/versions/<int:number>/",
        sw.version_draft,
        name="staff_scenario_version",
    ),
    path(
        "workbench/scenarios/<int:pk>/versions/<int:number>/publish",
        sw.version_publish,
        name="staff_scenario_publish",
    ),
    path(
        "workbench/scenarios/<int:pk>/enrollments/",
        sw.enrollment_list,
        name="staff_enrollments",
    ),
    path("workbench/scenarios/<int:pk>/evaluate", sw.scenario_evaluate, name="staff_evaluate"),
    path("workbench/scenarios/<int:pk>/freeze", sw.scenario_freeze, name="staff_freeze"),
    path("workbench/rankings/<int:pk>/", sw.ranking_detail, name="staff_ranking"),
    path(
        "workbench/rankings/<int:pk>/<slug:action>",
        sw.ranking_action,
        name="staff_ranking_action",
    ),
    path("workbench/reexaminations/", sw.reexamination_queue, name="staff_reexaminations"),
    path(
        "workbench/reexaminations/<uuid:pk>/",
        sw.reexamination_detail,
        name="staff_reexamination",
    ),
    path(
        "workbench/reexaminations/<uuid:pk>/<slug:action>",
        sw.reexamination_action,
        name="staff_reexamination_action",
    ),
    path("workbench/fraud/", sw.fraud_list, name="staff_fraud"),
    path("workbench/fraud/<uuid:pk>/", sw.fraud_case, name="staff_fraud_case"),
]

# Oversight dashboards and monthly reports (issue 7, dash): /workbench/oversight/…
from django.urls import include  # noqa: E402

urlpatterns += [path("workbench/oversight/", include("jifen.oversight.urls"))]

# Score projection on "my points" (issue 6, proj): a projection, never a score.
from jifen.web import projection as projection_views  # noqa: E402

urlpatterns += [path("me/projection/", projection_views.my_projection, name="projection")]
