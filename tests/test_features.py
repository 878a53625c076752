"""The Gherkin specifications in ``features/``, bound to the step library."""

from pytest_bdd import scenarios

scenarios(
    "partnership_history.feature",
    "amendments.feature",
    "corrections.feature",
    "renegotiation.feature",
    "other_agreement.feature",
    "whatif.feature",
    "termination.feature",
    "public_record.feature",
    "portfolio.feature",
)
