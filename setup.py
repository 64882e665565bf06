"""
appserver: a Twisted application server in the twistd/mktap tradition.
"""

from setuptools import find_packages, setup

setup(
    name="appserver",
    version="0.1.0",
    description="A Twisted application server: twistd plugins, mktap, web apps, sessions.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["appserver", "appserver.*", "services", "services.*"])
    + ["qotd", "twisted.plugins"],
    package_dir={"qotd": "examples/qotd"},
    package_data={
        "twisted": ["plugins/appserver_plugins.py"],
        "appserver": ["web/demo/templates/*.xml", "web/demo/migrations/*.sql",
                      "web/demo/static/*", "web/demo/controllers/*.py"],
    },
    install_requires=[
        # services/db/pool.py overrides adbapi internals checked against these
        # releases (tests/test_db_adbapi.py): check again before widening.
        "twisted[tls]>=24.7.0,<27",
        "zope.interface>=6.0",
        "pyyaml>=6.0",
    ],
    extras_require={
        "postgres": ["psycopg[binary]>=3.1"],
        "test": [
            "pytest>=8.0",
            "pytest-timeout>=2.3",
            "hypothesis>=6.100",
            "redis>=5.0",
            "hiredis>=2.0",
            "wheel>=0.40",  # setuptools builds the plugin of docs/writing-a-plugin.md offline
            "psycopg[binary]>=3.1",
            # `make lint`: the versions its settings in pyproject.toml were checked with.
            "ruff>=0.17,<0.18",
            "mypy>=2.4,<3",
        ],
        "bench": ["klein>=23.5"],
        # make mutate (docs/mutation.md); its [tool.mutmut] settings are 3.x's
        "mutate": ["mutmut>=3.8,<4"],
    },
    entry_points={"console_scripts": [
        "mktap = appserver.mktap:main",
        "appserver-check-journal = services.sessionserver.checkjournal:main",
        "appserver-sessions = appserver.sessions.admin:main",
    ]},
    classifiers=[
        "Framework :: Twisted",
        "Programming Language :: Python :: 3",
    ],
)
