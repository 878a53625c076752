@renegotiation
Feature: Renegotiations: proposals, rejection, withdrawal, conclusion
  A proposal is checked for shape when made and against the rules when concluded. An
  accepted proposal's changes take effect on the conclusion's date, as an amendment
  would; the renegotiation's other pending proposals become superseded.
  The bundled talks "2025-terms" are open with two pending proposals: OpenAI's
  "equity-for-revenue" and Microsoft's "agi-clause-removal". How they end here is
  illustrative: the article reports no outcome.

  Background:
    Given the ledger holds the "openai-microsoft" example

  Scenario: Before the talks opened there is no renegotiation
    When I replay to 2024-12-31
    Then there is no renegotiation "2025-terms"

  Scenario: Concluding with a proposal turns it into an amendment on the conclusion's date
    Given these events are appended:
      """
      events:
        - {type: renegotiation_concluded, effective_on: "2025-10-28", renegotiation: 2025-terms,
           accepted: equity-for-revenue, source: {citation: "Illustrative", confidence: reported}}
      """
    When I replay to 2025-10-28
    Then renegotiation "2025-terms" is "concluded"
    And proposal "equity-for-revenue" of renegotiation "2025-terms" is "accepted"
    And proposal "agi-clause-removal" of renegotiation "2025-terms" is "superseded"
    And clause "openai-revenue-share" is not in force
    And clause "equity-instead-of-revenue-share" is in force
    And a "custom" clause is in force
    And clause "azure-revenue-share" is in force
    And clause "agi-clause" is in force

  Scenario Outline: Until the conclusion, the talks are open and the old terms hold: <date>
    Given these events are appended:
      """
      events:
        - {type: renegotiation_concluded, effective_on: "2025-10-28", renegotiation: 2025-terms,
           accepted: equity-for-revenue, source: {citation: "Illustrative", confidence: reported}}
      """
    When I replay to <date>
    Then renegotiation "2025-terms" is "open"
    And proposal "equity-for-revenue" of renegotiation "2025-terms" is "pending"
    And clause "openai-revenue-share" is in force
    And term "rate" of clause "openai-revenue-share" is "20"

    Examples:
      | date       |
      | 2025-01-01 |
      | 2025-10-27 |

  Scenario: A rejected proposal stays rejected when the talks conclude
    Given these events are appended:
      """
      events:
        - {type: proposal_rejected, effective_on: "2025-03-01", renegotiation: 2025-terms,
           proposal: agi-clause-removal, source: {citation: "Illustrative", confidence: reported}}
      """
    When I replay to 2025-03-01
    Then proposal "agi-clause-removal" of renegotiation "2025-terms" is "rejected"
    And renegotiation "2025-terms" is "open"
    When I append these events:
      """
      events:
        - {type: renegotiation_concluded, effective_on: "2025-10-28", renegotiation: 2025-terms,
           accepted: equity-for-revenue, source: {citation: "Illustrative", confidence: reported}}
      """
    And I replay to 2025-12-31
    Then proposal "agi-clause-removal" of renegotiation "2025-terms" is "rejected"
    And proposal "equity-for-revenue" of renegotiation "2025-terms" is "accepted"
    And clause "agi-clause" is in force

  Scenario: A withdrawn proposal can no longer be accepted
    Given these events are appended:
      """
      events:
        - {type: proposal_withdrawn, effective_on: "2025-04-01", renegotiation: 2025-terms,
           proposal: equity-for-revenue, source: {citation: "Illustrative", confidence: reported}}
      """
    When I append these events:
      """
      events:
        - {type: renegotiation_concluded, effective_on: "2025-10-28", renegotiation: 2025-terms,
           accepted: equity-for-revenue, source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "expected a pending proposal, got 'equity-for-revenue', withdrawn"
    And the ledger is unchanged
    When I replay to 2025-04-01
    Then proposal "equity-for-revenue" of renegotiation "2025-terms" is "withdrawn"
    And proposal "agi-clause-removal" of renegotiation "2025-terms" is "pending"

  Scenario: Microsoft's removal of the AGI clause accepted: the clause ends on the conclusion
    Given these events are appended:
      """
      events:
        - {type: renegotiation_concluded, effective_on: "2026-02-01", renegotiation: 2025-terms,
           accepted: agi-clause-removal, source: {citation: "Illustrative", confidence: reported}}
      """
    When I replay to 2026-01-31
    Then clause "agi-clause" is in force
    When I replay to 2026-02-01
    Then clause "agi-clause" is not in force
    And no "agi_clause" clause is in force
    And proposal "equity-for-revenue" of renegotiation "2025-terms" is "superseded"
    And clause "openai-revenue-share" is in force

  Scenario: Abandoned talks supersede every pending proposal and change nothing
    Given these events are appended:
      """
      events:
        - {type: renegotiation_concluded, effective_on: "2026-01-01", renegotiation: 2025-terms,
           outcome: abandoned, source: {citation: "Illustrative", confidence: reported}}
      """
    When I replay to 2026-01-01
    Then renegotiation "2025-terms" is "abandoned"
    And proposal "equity-for-revenue" of renegotiation "2025-terms" is "superseded"
    And proposal "agi-clause-removal" of renegotiation "2025-terms" is "superseded"
    And clause "openai-revenue-share" is in force
    And clause "agi-clause" is in force

  Scenario: A new proposal amending a term, accepted
    Given these events are appended:
      """
      events:
        - type: proposal
          effective_on: "2025-05-06"
          renegotiation: 2025-terms
          proposal: lower-revenue-share
          by: microsoft
          changes:
            - amend: openai-revenue-share
              terms: {rate: "8"}
          source: {citation: "Illustrative", confidence: reported}
        - {type: renegotiation_concluded, effective_on: "2025-10-28", renegotiation: 2025-terms,
           accepted: lower-revenue-share, source: {citation: "Illustrative", confidence: reported}}
      """
    When I replay to 2025-10-28
    Then term "rate" of clause "openai-revenue-share" is "8"
    And term "payer" of clause "openai-revenue-share" is "openai"
    And proposal "lower-revenue-share" of renegotiation "2025-terms" is "accepted"
    And proposal "equity-for-revenue" of renegotiation "2025-terms" is "superseded"
    And proposal "agi-clause-removal" of renegotiation "2025-terms" is "superseded"
    When I replay to 2025-10-27
    Then term "rate" of clause "openai-revenue-share" is "20"
    And proposal "lower-revenue-share" of renegotiation "2025-terms" is "pending"

  Scenario: A proposal is checked against the rules only when it is concluded
    When I append these events:
      """
      events:
        - type: proposal
          effective_on: "2025-05-06"
          renegotiation: 2025-terms
          proposal: drop-unknown
          by: openai
          changes:
            - remove: no-such-clause
          source: {citation: "Illustrative", confidence: reported}
      """
    Then the append is accepted
    When I append these events:
      """
      events:
        - {type: renegotiation_concluded, effective_on: "2025-10-28", renegotiation: 2025-terms,
           accepted: drop-unknown, source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "not in force"
    And the ledger is unchanged

  Scenario: A proposal's changes take effect on the conclusion's date, when the rules are checked
    Given these events are appended:
      """
      events:
        - {type: amendment, effective_on: "2025-06-01", changes: [{remove: openai-revenue-share}],
           source: {citation: "Illustrative", confidence: reported}}
      """
    When I append these events:
      """
      events:
        - {type: renegotiation_concluded, effective_on: "2025-10-28", renegotiation: 2025-terms,
           accepted: equity-for-revenue, source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "'openai-revenue-share', which is not in force"
    And the ledger is unchanged

  Scenario Outline: A proposal of the wrong shape is refused when made: <problem>
    When I append these events:
      """
      events:
        - type: proposal
          effective_on: "2025-05-06"
          renegotiation: 2025-terms
          proposal: <proposal>
          by: <by>
          changes: <changes>
          source: {citation: "Illustrative", confidence: reported}
      """
    Then the append is refused with a message containing "<message>"
    And the ledger is unchanged

    Examples:
      | problem             | proposal     | by        | changes                                        | message                              |
      | no change           | empty        | openai    | []                                             | expected at least one change         |
      | an unknown kind     | bad-kind     | openai    | [{add: {id: x, kind: merger, terms: {}}}]      | expected one of exclusivity          |
      | a non-party author  | outsider     | softbank  | [{remove: agi-clause}]                         | expected a party of the agreement    |
      | a repeated id       | agi-clause-removal | microsoft | [{remove: agi-clause}]                   | got 'agi-clause-removal' again       |

  Scenario: A proposal needs an open renegotiation
    When I append these events:
      """
      events:
        - {type: proposal, effective_on: "2025-05-06", renegotiation: 2026-terms, proposal: p1,
           by: openai, changes: [{remove: agi-clause}], source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "expected a renegotiation opened before, got '2026-terms'"
    And the ledger is unchanged

  Scenario: Concluded talks take no more proposals and cannot conclude again
    Given these events are appended:
      """
      events:
        - {type: renegotiation_concluded, effective_on: "2025-10-28", renegotiation: 2025-terms,
           accepted: equity-for-revenue, source: {citation: "Illustrative", confidence: reported}}
      """
    When I append these events:
      """
      events:
        - {type: renegotiation_concluded, effective_on: "2025-11-30", renegotiation: 2025-terms,
           outcome: abandoned, source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "expected an open renegotiation, got '2025-terms', concluded on 2025-10-28"
    And the ledger is unchanged

  Scenario: Accepting a proposal that was never made is refused
    When I append these events:
      """
      events:
        - {type: renegotiation_concluded, effective_on: "2025-10-28", renegotiation: 2025-terms,
           accepted: no-such-proposal, source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "expected a proposal made in '2025-terms' (equity-for-revenue, agi-clause-removal), got 'no-such-proposal'"
    And the ledger is unchanged

  Scenario: A renegotiation id is used once
    When I append these events:
      """
      events:
        - {type: renegotiation_opened, effective_on: "2026-01-01", renegotiation: 2025-terms,
           topics: [exclusivity], initiated_by: microsoft, source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "expected a new renegotiation id, got '2025-terms' again"
    And the ledger is unchanged

  Scenario: A second round of talks runs beside the first
    Given these events are appended:
      """
      events:
        - {type: renegotiation_opened, effective_on: "2026-01-01", renegotiation: 2026-cloud,
           topics: [exclusivity], initiated_by: microsoft, source: {citation: "Illustrative", confidence: reported}}
        - type: proposal
          effective_on: "2026-01-15"
          renegotiation: 2026-cloud
          proposal: rofr-instead
          by: microsoft
          changes:
            - amend: azure-exclusivity
              terms: {exclusive: false, right_of_first_refusal: true}
          source: {citation: "Illustrative", confidence: reported}
        - {type: renegotiation_concluded, effective_on: "2026-03-01", renegotiation: 2026-cloud,
           accepted: rofr-instead, source: {citation: "Illustrative", confidence: reported}}
      """
    When I replay to 2026-03-01
    Then renegotiation "2026-cloud" is "concluded"
    And renegotiation "2025-terms" is "open"
    And proposal "equity-for-revenue" of renegotiation "2025-terms" is "pending"
    And term "exclusive" of clause "azure-exclusivity" is "false"
    And term "right_of_first_refusal" of clause "azure-exclusivity" is "true"
