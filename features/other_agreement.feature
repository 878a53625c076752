@generic
Feature: Any agreement between any parties: Acme and Globex
  The engine knows nothing of the bundled history. An invented agreement (all names and
  figures made up, in features/amendments/acme-globex*.yaml) is opened, invested in,
  recapitalised, renegotiated and corrected the same way, and can share a store with
  the bundled one.

  Scenario: An agreement opened from a file next to the feature
    Given an empty ledger
    And the ledger holds the events in "amendments/acme-globex.yaml"
    When I replay to 2020-03-01
    Then the ledger holds the agreements "acme-globex"
    And the clauses in force are "supply-exclusivity, widget-royalty, acme-veto"
    And 3 events apply

  Scenario Outline: Its terms, in plain form: <clause> <term>
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    When I replay to 2021-01-01
    Then term "<term>" of clause "<clause>" is "<value>"

    Examples:
      | clause             | term      | value                     |
      | widget-royalty     | rate      | 5                         |
      | widget-royalty     | threshold | 1000000 EUR               |
      | widget-royalty     | payer     | globex                    |
      | acme-veto          | over      | restructuring, board_changed |
      | supply-exclusivity | exclusive | true                      |

  Scenario: Before it opened, there is nothing to replay
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    When I replay to 2020-02-29
    Then the replay is refused with a message containing "had not opened on 2020-02-29: it opened on 2020-03-01"

  Scenario Outline: The exclusivity runs through 2022: <date>
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    When I replay to <date>
    Then clause "supply-exclusivity" is <status>

    Examples:
      | date       | status       |
      | 2020-03-01 | in force     |
      | 2022-12-31 | in force     |
      | 2023-01-01 | not in force |

  Scenario: The investment and the stake on the day it opened
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    When I replay to 2020-03-01
    Then "acme" has invested 25000000 EUR in "globex"
    And "acme" has invested 0 USD in "globex"
    And "acme" holds 30% of "globex"
    And "orbit-capital" holds no stake in "globex"
    And "orbit-capital" has invested nothing in "globex"

  Scenario Outline: A recapitalisation is several ownership changes in one file: <date>
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    And the ledger holds the events in "amendments/acme-globex-recap.yaml"
    When I replay to <date>
    Then "acme" holds <acme>% of "globex"
    And "orbit-capital" has invested <orbit> EUR in "globex"

    Examples:
      | date       | acme | orbit       |
      | 2021-06-30 | 30   | 0           |
      | 2021-07-01 | 22.5 | 40000000.5  |

  Scenario: The recapitalisation's restructuring is on the record, approved
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    And the ledger holds the events in "amendments/acme-globex-recap.yaml"
    When I replay to 2021-12-31
    Then the governance record shows a "restructuring" event on 2021-07
    And "orbit-capital" holds 40% of "globex"

  Scenario: A restructuring without the veto holder's approval is refused
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    When I append these events:
      """
      events:
        - {type: governance, effective_on: "2021-07-01", kind: restructuring, entity: globex,
           approved_by: [globex], source: {citation: "Invented", confidence: reported}}
      """
    Then the append is refused with a message containing "expected approval by 'acme'"
    And the ledger is unchanged

  Scenario: A board change is under the same veto
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    When I append these events:
      """
      events:
        - {type: governance, effective_on: "2021-02-01", kind: board_changed, entity: globex,
           people: [Jane Roe], source: {citation: "Invented", confidence: reported}}
      """
    Then the append is refused with a message containing "who holds a veto over board_changed (clause 'acme-veto')"

  Scenario: Stakes beyond 100% are refused
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    When I append these events:
      """
      events:
        - {type: ownership_change, effective_on: "2021-01-01", holder: orbit-capital, entity: globex,
           percent: "70.5", source: {citation: "Invented", confidence: reported}}
      """
    Then the append is refused with a message containing "expected stakes in 'globex' to sum to at most 100, got 30% (acme) + 70.5% (orbit-capital)"
    And the ledger is unchanged

  Scenario: A recapitalisation's ownership changes on one day may come in any order
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    And these events are appended:
      """
      events:
        - {type: ownership_change, effective_on: "2024-06-01", holder: orbit-capital, entity: globex,
           percent: "75", source: {citation: "Invented", confidence: reported}}
        - {type: ownership_change, effective_on: "2024-06-01", holder: acme, entity: globex,
           percent: "25", source: {citation: "Invented", confidence: reported}}
      """
    When I replay to 2024-06-01
    Then "orbit-capital" holds 75% of "globex"
    And "acme" holds 25% of "globex"

  Scenario: A stake sold down to zero is no stake
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    And these events are appended:
      """
      events:
        - {type: ownership_change, effective_on: "2024-01-01", holder: acme, entity: globex,
           percent: "0", source: {citation: "Invented", confidence: reported}}
      """
    When I replay to 2024-01-01
    Then "acme" holds no stake in "globex"
    When I replay to 2023-12-31
    Then "acme" holds 30% of "globex"

  Scenario: Talks end with a new royalty rate
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    And these events are appended:
      """
      agreement: acme-globex
      events:
        - {type: renegotiation_opened, effective_on: "2022-09-01", renegotiation: renewal,
           topics: [exclusivity, revenue_share], initiated_by: globex, source: {citation: "Invented", confidence: reported}}
        - type: proposal
          effective_on: "2022-10-01"
          renegotiation: renewal
          proposal: cheaper-royalty
          by: globex
          changes:
            - {amend: widget-royalty, terms: {rate: "3.5"}}
          source: {citation: "Invented", confidence: reported}
        - type: proposal
          effective_on: "2022-10-15"
          renegotiation: renewal
          proposal: longer-exclusivity
          by: acme
          changes:
            - {amend: supply-exclusivity, until: "2025-12-31"}
          source: {citation: "Invented", confidence: reported}
        - {type: renegotiation_concluded, effective_on: "2022-12-01", renegotiation: renewal,
           accepted: cheaper-royalty, source: {citation: "Invented", confidence: confirmed}}
      """
    When I replay to 2023-06-30
    Then renegotiation "renewal" is "concluded"
    And proposal "longer-exclusivity" of renegotiation "renewal" is "superseded"
    And term "rate" of clause "widget-royalty" is "3.5"
    And clause "supply-exclusivity" is not in force

  Scenario: Two agreements in one store: replays name the one they mean
    Given the ledger holds the "openai-microsoft" example
    And the ledger holds the events in "amendments/acme-globex.yaml"
    When I replay "acme-globex" to 2021-12-31
    Then clause "widget-royalty" is in force
    And no "agi_clause" clause is in force
    And 3 events apply
    When I replay "openai-microsoft" to 2021-12-31
    Then clause "agi-clause" is in force
    And clause "widget-royalty" is not in force
    And the ledger holds the agreements "openai-microsoft, acme-globex"
    And the history of "acme-globex" shows 3 events
    And the history of "openai-microsoft" shows 11 events

  Scenario: With two agreements, a replay that names none is refused
    Given the ledger holds the "openai-microsoft" example
    And the ledger holds the events in "amendments/acme-globex.yaml"
    When I replay to 2021-12-31
    Then the replay is refused with a message containing "several agreements"

  Scenario: An event for one agreement never touches the other
    Given the ledger holds the "openai-microsoft" example
    And the ledger holds the events in "amendments/acme-globex.yaml"
    When I append these events:
      """
      agreement: acme-globex
      events:
        - {type: investment, effective_on: "2021-01-01", investor: microsoft, recipient: globex,
           amount: {amount: "1", currency: EUR}, instrument: equity, source: {citation: "Invented", confidence: reported}}
      """
    Then the append is refused with a message containing "expected a party of the agreement (acme, globex, orbit-capital), got 'microsoft'"
    And the ledger is unchanged

  Scenario: Replayed as known before it was recorded, the agreement is not known yet
    Given I note the time as "before-opening"
    And the ledger holds the events in "amendments/acme-globex.yaml"
    And I note the time as "after-opening"
    When I replay to 2021-01-01 as known at "before-opening"
    Then the replay is refused with a message containing "not known yet"
    When I replay to 2021-01-01 as known at "after-opening"
    Then "acme" holds 30% of "globex"

  Scenario: A correction in another agreement cites that agreement's ids
    Given the ledger holds the events in "amendments/acme-globex.yaml"
    And I note the time as "before-correction"
    When I append these events:
      """
      agreement: acme-globex
      events:
        - type: correction
          corrects: acme-globex#3
          reason: "the stake was 35%"
          source: {citation: "Invented erratum", confidence: confirmed}
          replacement: {type: ownership_change, effective_on: "2020-03-01", holder: acme, entity: globex,
                        percent: "35", source: {citation: "Invented erratum", confidence: confirmed}}
      """
    Then the append records the events "acme-globex#4"
    When I replay to 2020-06-30
    Then "acme" holds 35% of "globex"
    And the history shows event "acme-globex#3" withdrawn by "acme-globex#4"
    When I replay to 2020-06-30 as known at "before-correction"
    Then "acme" holds 30% of "globex"
