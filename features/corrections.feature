@corrections
Feature: Corrections and retractions, and replaying what was known at a time
  A correction withdraws an earlier event (cited by the id `history` shows,
  `<agreement>#<version in the log>`) and puts a replacement in its place; a retraction
  withdraws it outright. The original stays in the log forever: replayed as known before
  the correction, the ledger still tells the old story.
  (The figures and dates appended here are illustrative, not facts from the article.)

  Background:
    Given the ledger holds the "openai-microsoft" example

  Scenario: A wrong figure is corrected later; both versions stay answerable
    Given these events are appended:
      """
      events:
        - type: investment
          effective_on: "2023-01-23"
          investor: microsoft
          recipient: openai
          amount: {amount: "100000000000", currency: USD}
          instrument: profit_interest
          source: {citation: "Illustrative report with a typo", confidence: reported}
      """
    And I note the time as "before-correction"
    When I append these events:
      """
      events:
        - type: correction
          corrects: openai-microsoft#12
          reason: "the figure had one zero too many"
          source: {citation: "Illustrative erratum", confidence: confirmed}
          replacement:
            type: investment
            effective_on: "2023-01-23"
            investor: microsoft
            recipient: openai
            amount: {amount: "10000000000", currency: USD}
            instrument: profit_interest
            source: {citation: "Illustrative erratum", confidence: confirmed}
      """
    Then the append records the events "openai-microsoft#13"
    When I replay to 2023-06-30
    Then "microsoft" has invested 11000000000 USD in "openai"
    When I replay to 2023-06-30 as known at "before-correction"
    Then "microsoft" has invested 101000000000 USD in "openai"

  Scenario: The corrected event stays in the log, withdrawn by its correction
    Given these events are appended:
      """
      events:
        - {type: investment, effective_on: "2023-01-23", investor: microsoft, recipient: openai,
           amount: {amount: "100000000000", currency: USD}, instrument: profit_interest,
           source: {citation: "Illustrative", confidence: reported}}
        - type: correction
          corrects: openai-microsoft#12
          reason: "one zero too many"
          source: {citation: "Illustrative", confidence: confirmed}
          replacement: {type: investment, effective_on: "2023-01-23", investor: microsoft,
                        recipient: openai, amount: {amount: "10000000000", currency: USD},
                        instrument: profit_interest, source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then the history shows 13 events
    And the history shows event "openai-microsoft#12" withdrawn by "openai-microsoft#13"
    And the history shows event "openai-microsoft#2" not withdrawn
    When I replay to 2023-06-30
    # opened, the $1bn, the replacement: the withdrawn figure and the correction itself do not count
    Then 3 events apply

  Scenario Outline: A bundled date corrected to the day: the story on <date>, before and after
    Given I note the time as "before-correction"
    And these events are appended:
      """
      events:
        - type: correction
          corrects: openai-microsoft#3
          reason: "an illustrative source gives the day"
          source: {citation: "Illustrative", confidence: confirmed}
          replacement:
            type: governance
            effective_on: "2023-11-17"
            kind: ceo_removed
            entity: openai
            people: [Sam Altman]
            source: {citation: "Illustrative", confidence: confirmed}
      """
    When I replay to <date>
    Then the governance record shows <now> "ceo_removed" events
    When I replay to <date> as known at "before-correction"
    Then the governance record shows 1 "ceo_removed" event
    And the governance record shows a "ceo_removed" event on 2023-Q4

    Examples:
      | date       | now |
      | 2023-11-16 | 0   |
      | 2023-11-17 | 1   |
      | 2023-12-31 | 1   |

  Scenario: After the correction the event is on its exact day
    Given these events are appended:
      """
      events:
        - type: correction
          corrects: openai-microsoft#3
          reason: "an illustrative source gives the day"
          source: {citation: "Illustrative", confidence: confirmed}
          replacement: {type: governance, effective_on: "2023-11-17", kind: ceo_removed,
                        entity: openai, people: [Sam Altman], source: {citation: "Illustrative", confidence: confirmed}}
      """
    When I replay to 2023-11-20
    Then the governance record shows a "ceo_removed" event on 2023-11-17
    And the governance record shows a "ceo_removed" event involving "Sam Altman"

  Scenario: A retraction withdraws an event that should never have been recorded
    Given I note the time as "before-retraction"
    When I append these events:
      """
      events:
        - type: retraction
          retracts: openai-microsoft#7
          reason: "illustrative: an exploration is not a governance event"
          source: {citation: "Illustrative", confidence: confirmed}
      """
    Then the append is accepted
    When I replay to 2025-01-01
    Then the governance record shows 1 "other" event
    And 10 events apply
    When I replay to 2025-01-01 as known at "before-retraction"
    Then the governance record shows 2 "other" events
    And 11 events apply
    And the history shows event "openai-microsoft#7" withdrawn by "openai-microsoft#12"

  Scenario: An event appended after a noted time is not known at that time, even backdated
    Given I note the time as "later"
    When I replay to 2024-01-01 as known at "later"
    Then 6 events apply
    When I append these events:
      """
      events:
        - {type: governance, effective_on: "2023-12-01", kind: board_changed, entity: openai,
           source: {citation: "Illustrative", confidence: reported}}
      """
    And I replay to 2024-01-01 as known at "later"
    Then 6 events apply
    And the governance record shows no "board_changed" event
    When I replay to 2024-01-01
    Then 7 events apply
    And the governance record shows a "board_changed" event on 2023-12-01

  Scenario: An event cannot be withdrawn twice
    Given these events are appended:
      """
      events:
        - {type: retraction, retracts: openai-microsoft#11, reason: "Illustrative",
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    When I append these events:
      """
      events:
        - {type: retraction, retracts: openai-microsoft#11, reason: "again",
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then the append is refused with a message containing "expected an event not yet withdrawn, got 'openai-microsoft#11'"
    And the ledger is unchanged

  Scenario: A correction must cite an event that exists
    When I append these events:
      """
      events:
        - type: correction
          corrects: openai-microsoft#42
          reason: "Illustrative"
          source: {citation: "Illustrative", confidence: confirmed}
          replacement: {type: governance, effective_on: "2024-01-01", kind: other, entity: openai,
                        source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then the append is refused with a message containing "expected the id of an event recorded before, got 'openai-microsoft#42'"
    And the ledger is unchanged

  Scenario: The opening cannot be retracted, only corrected
    When I append these events:
      """
      events:
        - {type: retraction, retracts: openai-microsoft#1, reason: "Illustrative",
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then the append is refused with a message containing "expected an event other than the opening"
    And the ledger is unchanged

  Scenario: A retraction cannot itself be retracted
    Given these events are appended:
      """
      events:
        - {type: retraction, retracts: openai-microsoft#11, reason: "Illustrative",
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    When I append these events:
      """
      events:
        - {type: retraction, retracts: openai-microsoft#12, reason: "undo",
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then the append is refused with a message containing "expected an event other than a retraction"
    And the ledger is unchanged

  Scenario: A correction that would break a later event is refused
    When I append these events:
      """
      events:
        - type: correction
          corrects: openai-microsoft#8
          reason: "illustrative: the talks opened later"
          source: {citation: "Illustrative", confidence: confirmed}
          replacement: {type: renegotiation_opened, effective_on: "2025-06-01",
                        renegotiation: 2025-terms, topics: [revenue_share], initiated_by: openai,
                        source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then the append is refused with a message containing "this would break openai-microsoft#9"
    And the ledger is unchanged

  Scenario: The replacement must be the same kind of event (opening or not)
    When I append these events:
      """
      events:
        - type: correction
          corrects: openai-microsoft#2
          reason: "Illustrative"
          source: {citation: "Illustrative", confidence: confirmed}
          replacement: {type: agreement_opened, effective_on: "2019-07-01", date_precision: month,
                        agreement: openai-microsoft, title: "x", parties: [{id: openai, name: OpenAI}],
                        source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then the append is refused with a message containing "replacement.type"
    And the ledger is unchanged

  Scenario: Retracting a mistaken correction restores the original event
    Given these events are appended:
      """
      events:
        - type: correction
          corrects: openai-microsoft#2
          reason: "illustrative: a mistaken correction"
          source: {citation: "Illustrative", confidence: confirmed}
          replacement: {type: investment, effective_on: "2019-07-01", date_precision: month,
                        investor: microsoft, recipient: openai, amount: {amount: "2000000000", currency: USD},
                        instrument: profit_interest, source: {citation: "Illustrative", confidence: reported}}
      """
    When I append these events:
      """
      events:
        - {type: retraction, retracts: openai-microsoft#12, reason: "the correction was the mistake",
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    And I replay to 2020-01-01
    Then "microsoft" has invested 1000000000 USD in "openai"
    And 2 events apply
