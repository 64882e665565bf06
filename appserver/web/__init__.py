"""
appserver.web: controllers, routes, responses and the app resource.

A controller::

    from appserver.web import Controller, route, NotFound

    class Hello(Controller):
        @route("/hello")
        def hello(self, request):
            return "Hello, world!"

See docs/web-app.md for the full reference.
"""

from appserver.web.appdir import App, AppError, AppService, loadApp
from appserver.web.controller import Controller, route
from appserver.web.helpers import (
    UploadedFile, formField, formFields, jsonBody, queryArg, queryArgs,
    requestBody, uploadedFile, uploadedFiles,
)
from appserver.web.hooks import beforeResponse
from appserver.web.resource import AppResource
from appserver.web.responses import (
    Accepted, BadRequest, Conflict, Created, Forbidden, Found, Gone, HTTPError,
    InternalServerError, MethodNotAllowed, MovedPermanently, NoContent, NotAcceptable,
    NotFound, NotImplementedYet, Ok, PayloadTooLarge, PermanentRedirect, Redirect,
    Response, SeeOther, ServiceUnavailable, TemporaryRedirect, TooManyRequests,
    Unauthorized, UnprocessableEntity, UnsupportedMediaType,
)
from appserver.web.router import RouteConflict, RouteError, Router
from appserver.web.templates import TemplateElement, TemplateLoader

__all__ = [
    "Controller", "route", "Router", "RouteError", "RouteConflict",
    "AppResource", "App", "AppError", "AppService", "loadApp",
    "TemplateLoader", "TemplateElement", "beforeResponse",
    "queryArg", "queryArgs", "formField", "formFields", "uploadedFile",
    "uploadedFiles", "UploadedFile", "jsonBody", "requestBody",
    "Response", "Ok", "Created", "Accepted", "NoContent", "Redirect",
    "MovedPermanently", "Found", "SeeOther", "TemporaryRedirect", "PermanentRedirect",
    "HTTPError", "BadRequest", "Unauthorized", "Forbidden", "NotFound",
    "MethodNotAllowed", "NotAcceptable", "Conflict", "Gone", "PayloadTooLarge",
    "UnsupportedMediaType", "UnprocessableEntity", "TooManyRequests",
    "InternalServerError", "NotImplementedYet", "ServiceUnavailable",
]
