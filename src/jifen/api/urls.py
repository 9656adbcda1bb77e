from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from jifen.api import views

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The schema read in Swagger UI (for the departments' integrators); the same audience.
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("me/score", views.MyScoreView.as_view(), name="my_score"),
    path("me/facts", views.MyFactsView.as_view(), name="my_facts"),
    path("residents/", views.ResidentSearchView.as_view(), name="residents"),
    path("residents/<uuid:pk>/", views.ResidentDetailView.as_view(), name="resident"),
    path("residents/<uuid:pk>/facts/", views.ResidentFactsView.as_view(), name="resident_facts"),
    path("residents/<uuid:pk>/scores/", views.ResidentScoresView.as_view(), name="resident_scores"),
    path(
        "residents/<uuid:pk>/permits/",
        views.ResidentPermitsView.as_view(),
        name="resident_permits",
    ),
    path("calculator", views.CalculatorView.as_view(), name="calculator"),
]

# Claims and review (jifen.api.claims).
from jifen.api import claims as claims_api  # noqa: E402

urlpatterns += [
    path("claims/", claims_api.ClaimListView.as_view(), name="claims"),
    path("claims/file", claims_api.ClaimFileView.as_view(), name="claim_file"),
    path("claims/<uuid:pk>/", claims_api.ClaimDetailView.as_view(), name="claim"),
    path("claims/<uuid:pk>/draft", claims_api.ClaimDraftView.as_view(), name="claim_draft"),
    path("claims/<uuid:pk>/submit", claims_api.ClaimSubmitView.as_view(), name="claim_submit"),
    path(
        "claims/<uuid:pk>/withdraw", claims_api.ClaimWithdrawView.as_view(), name="claim_withdraw"
    ),
    path("corrections/", claims_api.CorrectionView.as_view(), name="corrections"),
    path("evidence/", claims_api.EvidenceUploadView.as_view(), name="evidence_upload"),
    path(
        "evidence/<uuid:pk>/download",
        claims_api.EvidenceDownloadView.as_view(),
        name="evidence_download",
    ),
    path("tasks/", claims_api.TaskListView.as_view(), name="tasks"),
    path("tasks/<int:pk>/", claims_api.TaskDetailView.as_view(), name="task"),
    path("tasks/<int:pk>/accept", claims_api.TaskAcceptView.as_view(), name="task_accept"),
    path("tasks/<int:pk>/refuse", claims_api.TaskRefuseView.as_view(), name="task_refuse"),
    path(
        "tasks/<int:pk>/request-materials",
        claims_api.TaskMaterialsView.as_view(),
        name="task_request_materials",
    ),
    path("tasks/<int:pk>/extend", claims_api.TaskExtendView.as_view(), name="task_extend"),
    path("tasks/<int:pk>/decide", claims_api.TaskDecideView.as_view(), name="task_decide"),
    path(
        "tasks/<int:pk>/supplement",
        claims_api.TaskSupplementView.as_view(),
        name="task_supplement",
    ),
]

# The signed-in user's inbox (issue 4, infra).
from jifen.notifications.api import InboxView  # noqa: E402

urlpatterns += [path("inbox/", InboxView.as_view(), name="inbox")]

# Scenarios, enrollment, public lists, re-examinations and rankings (issue 5, pages5).
from jifen.api import scenarios as scenarios_api  # noqa: E402

urlpatterns += [
    path("scenarios/", scenarios_api.ScenarioListView.as_view(), name="scenarios"),
    path("scenarios/<int:pk>/enroll", scenarios_api.EnrollView.as_view(), name="scenario_enroll"),
    path("scenarios/<int:pk>/freeze", scenarios_api.FreezeView.as_view(), name="scenario_freeze"),
    path("me/enrollments", scenarios_api.MyEnrollmentsView.as_view(), name="my_enrollments"),
    path("enrollments/<uuid:pk>/", scenarios_api.EnrollmentDetailView.as_view(), name="enrollment"),
    path(
        "enrollments/<uuid:pk>/reexaminations",
        scenarios_api.ReexaminationFileView.as_view(),
        name="enrollment_reexamine",
    ),
    path("publications/<int:pk>/", scenarios_api.PublicListView.as_view(), name="publication"),
    path("reexaminations/", scenarios_api.ReexaminationListView.as_view(), name="reexaminations"),
    path(
        "reexaminations/<uuid:pk>/accept",
        scenarios_api.ReexaminationAcceptView.as_view(),
        name="reexamination_accept",
    ),
    path(
        "reexaminations/<uuid:pk>/decide",
        scenarios_api.ReexaminationDecideView.as_view(),
        name="reexamination_decide",
    ),
    path("rankings/<int:pk>/", scenarios_api.RankingDetailView.as_view(), name="ranking"),
    path("rankings/<int:pk>/publish", scenarios_api.PublishView.as_view(), name="ranking_publish"),
]

# The resident's score projection (issue 6, proj): a projection, never a score.
from jifen.api import projection as projection_api  # noqa: E402

urlpatterns += [
    path("me/projection", projection_api.MyProjectionView.as_view(), name="my_projection"),
]

# Last: any other path under /api/ is a 404 in the problem shape (jifen.api.errors).
urlpatterns += [re_path(r"^(?P<rest>.*)$", views.not_found, name="not_found")]
