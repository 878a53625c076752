@rules
Feature: Appending amendments, backdating them, and the rules every append obeys
  An append is atomic: every event of a file is recorded, or none is. The rules are
  checked over the whole timeline, so a backdated event that would break a later one is
  refused too. Every refusal says which rule, and leaves the ledger as it was.
  (The figures and dates appended here are illustrative, not facts from the article.)

  Background:
    Given the ledger holds the "openai-microsoft" example

  Scenario: An amendment file is appended and takes effect on its date
    When I append the events in "amendments/2025.yaml"
    Then the append is accepted
    And the append records the events "openai-microsoft#12, openai-microsoft#13"
    When I replay to 2025-01-20
    Then term "exclusive" of clause "azure-exclusivity" is "true"
    And term "right_of_first_refusal" of clause "azure-exclusivity" is unknown
    When I replay to 2025-01-21
    Then term "exclusive" of clause "azure-exclusivity" is "false"
    And term "right_of_first_refusal" of clause "azure-exclusivity" is "true"
    And term "holder" of clause "azure-exclusivity" is "microsoft"
    And the history shows 13 events

  Scenario Outline: A backdated investment changes the past from its effective date on
    Given the ledger holds the events in "amendments/2025.yaml"
    When I replay to <date>
    Then "microsoft" has invested <total> USD in "openai"
    And <count> events apply

    Examples:
      | date       | total       | count |
      | 2023-01-22 | 1000000000  | 2     |
      | 2023-01-23 | 11000000000 | 3     |
      | 2023-10-01 | 11000000000 | 7     |
      | 2025-01-21 | 11000000000 | 13    |

  Scenario: A backdated event recorded last is folded in date order
    Given the ledger holds the events in "amendments/2025.yaml"
    When I replay to 2023-10-01
    Then the governance record shows a "ceo_removed" event on 2023-Q4
    And "microsoft" has invested 11000000000 USD in "openai"
    And term "exclusive" of clause "azure-exclusivity" is "true"

  Scenario: A JSON file is read as JSON
    When I append the events in "amendments/stake.json"
    Then the append is accepted
    When I replay to 2025-10-27
    Then "microsoft" holds no stake in "openai"
    When I replay to 2025-10-28
    Then "microsoft" holds 27% of "openai"

  Scenario: Events written in the scenario itself are appended like a file
    When I append these events:
      """
      agreement: openai-microsoft
      events:
        - type: amendment
          effective_on: "2026-03-01"
          source: {citation: "Illustrative", confidence: reported}
          changes:
            - amend: microsoft-ip-rights
              until: "2032-12-31"
            - add:
                id: joint-safety-board
                kind: custom
                terms: {text: "A joint safety board reviews frontier model releases."}
      """
    Then the append is accepted
    When I replay to 2031-06-30
    Then clause "microsoft-ip-rights" is in force
    And clause "microsoft-ip-rights" has until 2032-12-31
    And a "custom" clause is in force
    And clause "joint-safety-board" has no until
    When I replay to 2026-02-28
    Then clause "joint-safety-board" is not in force

  Scenario: A clause is removed and later added again under the same id
    Given these events are appended:
      """
      events:
        - type: amendment
          effective_on: "2026-01-01"
          source: {citation: "Illustrative", confidence: reported}
          changes:
            - remove: azure-exclusivity
        - type: amendment
          effective_on: "2027-01-01"
          source: {citation: "Illustrative", confidence: reported}
          changes:
            - add:
                id: azure-exclusivity
                kind: exclusivity
                terms: {holder: microsoft, grantor: openai, exclusive: false, right_of_first_refusal: true}
      """
    When I replay to 2026-06-30
    Then clause "azure-exclusivity" is not in force
    And no "exclusivity" clause is in force
    When I replay to 2027-01-01
    Then clause "azure-exclusivity" is in force
    And term "right_of_first_refusal" of clause "azure-exclusivity" is "true"

  Scenario: A file with one bad event is refused as a whole
    When I append the events in "amendments/one-bad-event.yaml"
    Then the append is refused with a message containing "event 2 (amendment)"
    And the append is refused with a message containing "not in force"
    And the ledger is unchanged
    When I replay to 2024-06-30
    Then "microsoft" has invested 1000000000 USD in "openai"
    And the history shows 11 events

  Scenario: A file that is not valid YAML is refused with where it broke
    When I append the events in "amendments/not-yaml.yaml"
    Then the append is refused with a message containing "expected YAML"
    And the ledger is unchanged

  Scenario: A missing file is refused
    When I append the events in "amendments/no-such-file.yaml"
    Then the append is refused with a message containing "cannot read the file"
    And the ledger is unchanged

  Scenario: No event may be dated before the agreement opened
    When I append these events:
      """
      events:
        - type: investment
          effective_on: "2019-06-30"
          investor: microsoft
          recipient: openai
          amount: {amount: "1", currency: USD}
          instrument: equity
          source: {citation: "Illustrative", confidence: reported}
      """
    Then the append is refused with a message containing "expected a date on or after the agreement opened (2019-07-01)"
    And the ledger is unchanged

  Scenario Outline: Only a clause in force can be amended or removed: <change> on <date>
    When I append these events:
      """
      events:
        - type: amendment
          effective_on: "<date>"
          source: {citation: "Illustrative", confidence: reported}
          changes:
            - <change>
      """
    Then the append is refused with a message containing "not in force"
    And the ledger is unchanged

    Examples:
      | date       | change                                          |
      | 2024-01-01 | remove: no-such-clause                          |
      | 2024-01-01 | {amend: no-such-clause, terms: {rate: "8"}}     |
      | 2031-01-01 | remove: microsoft-ip-rights                     |
      | 2031-01-01 | {amend: microsoft-ip-rights, until: 2035-12-31} |

  Scenario: A clause id already in force cannot be added again
    When I append these events:
      """
      events:
        - type: amendment
          effective_on: "2024-01-01"
          source: {citation: "Illustrative", confidence: reported}
          changes:
            - add: {id: agi-clause, kind: custom, terms: {text: "a second AGI clause"}}
      """
    Then the append is refused with a message containing "expected a clause id not in force on 2024-01-01, got 'agi-clause'"
    And the ledger is unchanged

  Scenario Outline: Percentages are between 0 and 100: <percent>
    When I append these events:
      """
      events:
        - {type: ownership_change, effective_on: "2025-10-28", holder: microsoft,
           entity: openai, percent: "<percent>", source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "<message>"
    And the ledger is unchanged

    Examples:
      | percent | message                                      |
      | 120     | expected a percentage between 0 and 100      |
      | -1      | expected a percentage between 0 and 100      |
      | 1e2     | no exponent                                  |

  Scenario: Stakes in one entity sum to at most 100
    When I append these events:
      """
      events:
        - {type: ownership_change, effective_on: "2025-10-28", holder: microsoft,
           entity: openai, percent: "60", source: {citation: "Illustrative", confidence: reported}}
        - {type: ownership_change, effective_on: "2025-10-28", holder: openai,
           entity: openai, percent: "50", source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "expected stakes in 'openai' to sum to at most 100"
    And the ledger is unchanged

  Scenario Outline: Money is a non-negative plain decimal with a currency: <amount>
    When I append these events:
      """
      events:
        - type: investment
          effective_on: "2024-01-01"
          investor: microsoft
          recipient: openai
          amount: <amount>
          instrument: equity
          source: {citation: "Illustrative", confidence: reported}
      """
    Then the append is refused with a message containing "<message>"
    And the ledger is unchanged

    Examples:
      | amount                                        | message                                  |
      | {amount: "-5", currency: USD}                 | expected a non-negative amount           |
      | {amount: "5"}                                 | currency: required field is missing      |
      | {amount: "5", currency: dollars}              | expected a three-letter currency code    |
      | {amount: "1e9", currency: USD}                | no exponent                              |
      | {amount: .nan, currency: USD}                 | expected a plain decimal number          |
      | {amount: "1234567890123456789", currency: USD} | expected at most 18 integer digits      |
      | {amount: "0.1234567890123", currency: USD}    | expected at most 12 fractional digits    |

  Scenario: A restructuring needs the approval of every veto holder
    When I append these events:
      """
      events:
        - {type: governance, effective_on: "2025-10-28", kind: restructuring, entity: openai,
           approved_by: [openai], description: "Illustrative recapitalisation",
           source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "expected approval by 'microsoft', who holds a veto over restructuring (clause 'restructuring-veto')"
    And the ledger is unchanged

  Scenario: A restructuring approved by the veto holder is recorded
    When I append these events:
      """
      events:
        - {type: governance, effective_on: "2025-10-28", kind: restructuring, entity: openai,
           approved_by: [openai, microsoft], description: "Illustrative recapitalisation",
           source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is accepted
    When I replay to 2025-10-28
    Then the governance record shows a "restructuring" event on 2025-10-28

  Scenario: Investors, recipients, holders and approvers are parties of the agreement
    When I append these events:
      """
      events:
        - type: investment
          effective_on: "2024-01-01"
          investor: softbank
          recipient: openai
          amount: {amount: "1000000", currency: USD}
          instrument: equity
          source: {citation: "Illustrative", confidence: reported}
      """
    Then the append is refused with a message containing "investor: expected a party of the agreement (microsoft, openai), got 'softbank'"
    And the ledger is unchanged

  Scenario: A correction must name an event that exists
    When I append these events:
      """
      events:
        - type: retraction
          retracts: openai-microsoft#99
          reason: "Illustrative"
          source: {citation: "Illustrative", confidence: confirmed}
      """
    Then the append is refused with a message containing "expected the id of an event recorded before, got 'openai-microsoft#99'"
    And the ledger is unchanged

  Scenario: A backdated event that would break a later one is refused
    Given these events are appended:
      """
      events:
        - type: amendment
          effective_on: "2025-06-01"
          source: {citation: "Illustrative", confidence: reported}
          changes:
            - amend: azure-exclusivity
              terms: {exclusive: false}
      """
    When I append these events:
      """
      events:
        - type: amendment
          effective_on: "2024-01-01"
          source: {citation: "Illustrative", confidence: reported}
          changes:
            - remove: azure-exclusivity
      """
    Then the append is refused with a message containing "this would break openai-microsoft#12"
    And the ledger is unchanged

  Scenario: An impossible date is refused with its field
    When I append these events:
      """
      events:
        - {type: governance, effective_on: "2023-02-30", kind: other, entity: openai,
           source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "effective_on: expected a date that exists, got '2023-02-30'"
    And the ledger is unchanged

  Scenario: A date must be the first day of its period when the source gives only the period
    When I append these events:
      """
      events:
        - {type: governance, effective_on: "2023-11-17", date_precision: quarter, kind: other,
           entity: openai, source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "expected the first day of the quarter"
    And the ledger is unchanged

  Scenario: An unknown event type is refused
    When I append these events:
      """
      events:
        - {type: merger, effective_on: "2024-01-01", source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "type: expected one of agreement_opened"
    And the ledger is unchanged

  Scenario: The agreement cannot be opened twice
    When I append these events:
      """
      agreement: openai-microsoft
      events:
        - type: agreement_opened
          effective_on: "2020-01-01"
          title: "A second opening"
          parties: [{id: openai, name: OpenAI}]
          source: {citation: "Illustrative", confidence: reported}
      """
    Then the append is refused with a message containing "already holds the agreement 'openai-microsoft'"
    And the ledger is unchanged
