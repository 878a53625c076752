@history
Feature: The bundled OpenAI–Microsoft history, replayed on the dates that matter
  The bundled history (ledger/examples/openai-microsoft.yaml) tells the partnership as
  its source article does: opened in July 2019 (month precision, 2019-07-01) with a
  $1 billion investment, a governance crisis in late 2023 (dated 2023-Q4, 2023-10-01),
  renegotiation talks in 2025 with two pending proposals, and IP rights through 2030.
  These scenarios pin every one of its eleven events, so that a change to the history
  shows up here.

  Background:
    Given the ledger holds the "openai-microsoft" example

  Scenario Outline: Before the partnership opened there is nothing to replay
    When I replay to <date>
    Then the replay is refused with a message containing "it opened on 2019-07-01"

    Examples:
      | date       |
      | 2019-06-30 |
      | 2019-01-01 |
      | 2015-12-11 |

  Scenario: The day it opened, seven clauses are in force
    When I replay to 2019-07-01
    Then the clauses in force are "azure-exclusivity, microsoft-profit-share, openai-revenue-share, azure-revenue-share, microsoft-ip-rights, agi-clause, restructuring-veto"
    And 2 events apply

  Scenario Outline: Every kind of clause the opening set up is in force on <date>
    When I replay to <date>
    Then a "<kind>" clause is in force
    And no "custom" clause is in force

    Examples:
      | date       | kind          |
      | 2019-07-01 | exclusivity   |
      | 2019-07-01 | revenue_share |
      | 2019-07-01 | profit_share  |
      | 2019-07-01 | ip_rights     |
      | 2019-07-01 | veto          |
      | 2019-07-01 | agi_clause    |
      | 2025-01-01 | exclusivity   |
      | 2025-01-01 | agi_clause    |

  Scenario Outline: The opening terms, as the article gives them
    When I replay to 2019-07-01
    Then term "<term>" of clause "<clause>" is "<value>"

    Examples:
      | clause                 | term      | value             |
      | azure-exclusivity      | holder    | microsoft         |
      | azure-exclusivity      | grantor   | openai            |
      | azure-exclusivity      | exclusive | true              |
      | microsoft-profit-share | holder    | microsoft         |
      | microsoft-profit-share | entity    | openai-for-profit |
      | microsoft-profit-share | rate      | 49                |
      | microsoft-profit-share | cap_multiple | 10             |
      | openai-revenue-share   | payer     | openai            |
      | openai-revenue-share   | payee     | microsoft         |
      | openai-revenue-share   | rate      | 20                |
      | azure-revenue-share    | payer     | microsoft         |
      | azure-revenue-share    | payee     | openai            |
      | azure-revenue-share    | rate      | 20                |
      | microsoft-ip-rights    | holder    | microsoft         |
      | microsoft-ip-rights    | licensor  | openai            |
      | restructuring-veto     | holder    | microsoft         |
      | restructuring-veto     | over      | restructuring     |

  Scenario Outline: What the article leaves unknown stays unknown
    When I replay to 2024-06-30
    Then term "<term>" of clause "<clause>" is unknown

    Examples:
      | clause               | term                   |
      | openai-revenue-share | threshold              |
      | azure-revenue-share  | threshold              |
      | azure-exclusivity    | right_of_first_refusal |
      | agi-clause           | determined_by          |

  Scenario: The $1 billion investment arrives the month the partnership opens
    When I replay to 2019-07-01
    Then "microsoft" has invested 1000000000 USD in "openai"
    And "openai" has invested nothing in "microsoft"

  Scenario Outline: No later investment is recorded: the total stays $1 billion on <date>
    When I replay to <date>
    Then "microsoft" has invested 1000000000 USD in "openai"

    Examples:
      | date       |
      | 2021-12-31 |
      | 2023-10-01 |
      | 2025-01-01 |
      | 2031-01-01 |

  Scenario: A profit interest is not a stake: no ownership is recorded
    When I replay to 2025-06-30
    Then "microsoft" holds no stake in "openai"
    And "microsoft" holds no stake in "openai-for-profit"

  Scenario: The quarter before the crisis, the governance record is empty
    When I replay to 2023-09-30
    Then the governance record shows 0 events
    And the governance record shows no "ceo_removed" event
    And 2 events apply

  Scenario: The crisis quarter: the CEO removed and reinstated in late 2023
    When I replay to 2023-10-01
    Then the governance record shows a "ceo_removed" event on 2023-Q4
    And the governance record shows a "ceo_removed" event on 2023-10-01
    And the governance record shows a "ceo_reinstated" event on 2023-Q4
    And the governance record shows a "ceo_removed" event involving "Sam Altman"
    And the governance record shows a "ceo_reinstated" event involving "Sam Altman"
    And 6 events apply

  Scenario Outline: The safety leaders' departure follows the firing
    When I replay to 2023-12-31
    Then the governance record shows a "departure" event involving "<person>"

    Examples:
      | person         |
      | Ilya Sutskever |
      | Jan Leike      |

  Scenario: Two departures are recorded: the named leaders and the exodus of talent
    When I replay to 2024-06-30
    Then the governance record shows 2 "departure" events
    And the governance record shows a "departure" event on 2023
    And the governance record shows 4 events

  Scenario: After the departures, the terms are untouched and no talks have begun
    When I replay to 2024-12-31
    Then clause "openai-revenue-share" is in force
    And clause "agi-clause" is in force
    And there is no renegotiation "2025-terms"
    And the governance record shows 0 "other" events
    And 6 events apply

  Scenario: No restructuring has happened, however late we look
    When I replay to 2031-01-01
    Then the governance record shows no "restructuring" event
    And clause "restructuring-veto" is in force

  Scenario: During the renegotiation both proposals are pending
    When I replay to 2025-01-01
    Then renegotiation "2025-terms" is "open"
    And proposal "equity-for-revenue" of renegotiation "2025-terms" is "pending"
    And proposal "agi-clause-removal" of renegotiation "2025-terms" is "pending"
    And 11 events apply

  Scenario: Pending proposals change nothing in force
    When I replay to 2025-06-30
    Then clause "openai-revenue-share" is in force
    And term "rate" of clause "openai-revenue-share" is "20"
    And clause "agi-clause" is in force
    And clause "equity-instead-of-revenue-share" is not in force
    And no "custom" clause is in force

  Scenario: OpenAI's push for independence and its open models are on the 2025 record
    When I replay to 2025-01-01
    Then the governance record shows 2 "other" events
    And the governance record shows an "other" event on 2025
    And the governance record shows 6 events

  Scenario Outline: How many events apply on <date>
    When I replay to <date>
    Then <count> events apply

    Examples:
      | date       | count |
      | 2019-07-01 | 2     |
      | 2023-09-30 | 2     |
      | 2023-10-01 | 6     |
      | 2024-12-31 | 6     |
      | 2025-01-01 | 11    |
      | 2031-01-01 | 11    |

  Scenario: The last day of the IP rights, 2030-12-31
    When I replay to 2030-12-31
    Then clause "microsoft-ip-rights" is in force
    And clause "microsoft-ip-rights" has until 2030-12-31
    And an "ip_rights" clause is in force

  Scenario Outline: After 2030 the IP rights have expired: <date>
    When I replay to <date>
    Then clause "microsoft-ip-rights" is not in force
    And no "ip_rights" clause is in force
    And the clauses in force are "azure-exclusivity, microsoft-profit-share, openai-revenue-share, azure-revenue-share, agi-clause, restructuring-veto"

    Examples:
      | date       |
      | 2031-01-01 |
      | 2040-06-30 |

  Scenario Outline: Clauses in force at each turn of the story
    When I replay to <date>
    Then clause "<clause>" is <status>

    Examples:
      | date       | clause              | status       |
      | 2019-07-01 | azure-exclusivity   | in force     |
      | 2023-10-01 | azure-exclusivity   | in force     |
      | 2025-01-01 | azure-exclusivity   | in force     |
      | 2025-01-01 | restructuring-veto  | in force     |
      | 2029-12-31 | microsoft-ip-rights | in force     |
      | 2031-01-01 | microsoft-ip-rights | not in force |
      | 2031-01-01 | agi-clause          | in force     |

  Scenario: Only the AGI and exclusivity clauses run without an end date
    When I replay to 2019-07-01
    Then clause "agi-clause" has no until
    And clause "azure-exclusivity" has no until

  Scenario: The log holds the eleven events, none withdrawn
    Then the ledger holds the agreements "openai-microsoft"
    And the history shows 11 events
    And the history of "openai-microsoft" shows 11 events
    And the history shows event "openai-microsoft#2" not withdrawn
    And the history shows event "openai-microsoft#11" not withdrawn
