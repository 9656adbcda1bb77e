from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "jifen.accounts"
    label = "accounts"

    def ready(self) -> None:
        from jifen.accounts import signals  # noqa: F401  (connects the receivers)
