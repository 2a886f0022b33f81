from django.urls import path

from apps.core.devmail import views

app_name = "devmail"

urlpatterns = [
    path("", views.mail_list, name="list"),
    path("<str:message_id>/", views.mail_detail, name="detail"),
    path("<str:message_id>/html", views.mail_html, name="html"),
    path("<str:message_id>.eml", views.mail_raw, name="raw"),
]
