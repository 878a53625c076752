@whatif
Feature: What if? A proposal or a file of events tried against the actual history
  Negotiators ask what the agreement would say on a date if a proposal were accepted,
  or if some events were added. The ledger answers in memory, through every rule,
  and writes nothing.

  Background:
    Given the ledger holds the "openai-microsoft" example

  Scenario: Accepting OpenAI's equity-for-revenue proposal removes the revenue share
    When I replay to 2025-06-01 with proposal "equity-for-revenue" accepted
    Then clause "openai-revenue-share" is not in force
    And renegotiation "2025-terms" is "concluded"
    And proposal "agi-clause-removal" of renegotiation "2025-terms" is "superseded"
    And compared with the actual agreement, clause "openai-revenue-share" is removed
    And compared with the actual agreement, clause "equity-instead-of-revenue-share" is added
    And nothing was written

  Scenario: The actual agreement is untouched by the hypothesis
    When I replay to 2025-06-01 with proposal "agi-clause-removal" accepted
    And I replay to 2025-06-01
    Then clause "agi-clause" is in force
    And renegotiation "2025-terms" is "open"

  Scenario: A user's own terms for the equity swap, on their effective date
    When I replay to 2026-01-01 with the events in "whatif/equity-swap.yaml"
    Then compared with the actual agreement, term "rate" of clause "azure-revenue-share" changes from "20" to "8"
    And compared with the actual agreement, clause "openai-revenue-share" is removed
    And "microsoft" holds 30% of "openai"
    And nothing was written

  Scenario: Before the hypothetical events take effect, nothing changes
    When I replay to 2025-06-01 with the events in "whatif/equity-swap.yaml"
    Then compared with the actual agreement, nothing changes

  Scenario: A proposal not yet made on the date cannot be accepted
    When I replay to 2024-06-01 with proposal "equity-for-revenue" accepted
    Then the replay is refused with a message containing "expected a proposal recorded by 2024-06-01"

  Scenario: A hypothesis that breaks a rule is refused like an append
    Given these events are appended:
      """
      agreement: openai-microsoft
      events:
        - type: amendment
          effective_on: "2025-03-01"
          source: {citation: "Illustrative", confidence: estimated}
          changes: [{remove: openai-revenue-share}]
      """
    When I replay to 2025-06-01 with proposal "equity-for-revenue" accepted
    Then the replay is refused with a message containing "not in force"
