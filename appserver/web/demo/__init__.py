"""
The built-in quotes demo, served by C{twistd web-app} when no app is given.

It is an ordinary app directory (controllers, templates, static files) that
uses only the public API of L{appserver.web}.
"""
