"""
pytest configuration shared by every test module, for C{make mutate}
(docs/mutation.md); ordinary runs are unchanged.

mutmut runs a test again in forked processes, each time on a new
L{twisted.trial.unittest.TestCase} instance, which Hypothesis's
C{differing_executors} health check would report as a failure, so counting
every mutant as killed: the C{mutmut} profile leaves that check out. And a
forked process inherits the caches the clean run filled (such as
L{services.sessionserver.glob.compileGlob}'s), which would hand a test the
original code's results instead of the mutant's, so counting mutants as
surviving: under a mutant, every cache of ours is emptied before each test.
"""

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("mutmut", suppress_health_check=[HealthCheck.differing_executors])


@pytest.fixture(autouse=True)
def _emptyCachesUnderMutant():
    """
    Under a mutant, empty the C{functools} caches of our modules.
    """
    if os.environ.get("MUTANT_UNDER_TEST"):
        for name, module in list(sys.modules.items()):
            if name.partition(".")[0] in ("appserver", "services"):
                for value in list(vars(module).values()):
                    if hasattr(value, "cache_clear"):
                        value.cache_clear()
