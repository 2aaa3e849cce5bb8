"""Page modules of the web UI. Each module that exports
``routes: list[starlette.routing.BaseRoute]`` is mounted by
msghub.web.app.create_app; shared helpers are in msghub.web.common."""
