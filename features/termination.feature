@termination
Feature: Agreements end: a termination takes every clause out of force
  From a termination's date no clause is in force, and the agreement says when it ended,
  by which event and why. Stakes, investments, governance and renegotiations stay as they
  were. Nothing may follow a termination on the timeline but corrections and retractions;
  a correction or retraction of the termination revives the agreement.
  (The dates and reasons here are illustrative, not facts from the article.)

  Background:
    Given the ledger holds the "openai-microsoft" example

  Scenario: From its date no clause is in force, and the agreement says it has ended
    When I append these events:
      """
      events:
        - {type: termination, effective_on: 2027-06-30, reason: "illustrative end",
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then the append is accepted
    When I replay to 2027-06-29
    Then clause "azure-exclusivity" is in force
    And the agreement is not terminated
    When I replay to 2027-06-30
    Then no clause is in force
    And the agreement is terminated on 2027-06-30
    And "microsoft" has invested 1000000000 USD in "openai"
    And 12 events apply

  Scenario: An event dated after the termination is refused, naming the termination
    Given these events are appended:
      """
      events:
        - {type: termination, effective_on: 2027-06-30,
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    When I append these events:
      """
      events:
        - {type: investment, effective_on: 2027-07-01, investor: microsoft, recipient: openai,
           amount: {amount: "1", currency: USD}, instrument: equity,
           source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "after the agreement's termination (openai-microsoft#12"
    And the ledger is unchanged

  Scenario: An event of the termination's day recorded after it is refused too
    Given these events are appended:
      """
      events:
        - {type: termination, effective_on: 2027-06-30,
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    When I append these events:
      """
      events:
        - {type: ownership_change, effective_on: 2027-06-30, holder: microsoft,
           entity: openai, percent: "10", source: {citation: "Illustrative", confidence: reported}}
      """
    Then the append is refused with a message containing "termination"

  Scenario: A backdated termination that would strand a later event is refused, naming it
    When I append these events:
      """
      events:
        - {type: termination, effective_on: 2024-06-30,
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then the append is refused with a message containing "this would break openai-microsoft#7"
    And the ledger is unchanged

  Scenario: A retraction of the termination revives the agreement
    Given these events are appended:
      """
      events:
        - {type: termination, effective_on: 2027-06-30,
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    And I note the time as "terminated"
    When I append these events:
      """
      events:
        - {type: retraction, retracts: "openai-microsoft#12", reason: "the termination was called off",
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then the append is accepted
    When I replay to 2027-07-01
    Then clause "azure-exclusivity" is in force
    And the agreement is not terminated
    When I replay to 2027-07-01 as known at "terminated"
    Then no clause is in force
    And the agreement is terminated on 2027-06-30

  Scenario: A correction moves the termination to another date
    Given these events are appended:
      """
      events:
        - {type: termination, effective_on: 2027-06-30,
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    When I append these events:
      """
      events:
        - type: correction
          corrects: "openai-microsoft#12"
          reason: "the end came later"
          source: {citation: "Illustrative", confidence: confirmed}
          replacement: {type: termination, effective_on: 2028-01-01,
                        source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then the append is accepted
    When I replay to 2027-12-31
    Then clause "azure-revenue-share" is in force
    When I replay to 2028-01-01
    Then the agreement is terminated on 2028-01-01
    And no clause is in force

  Scenario: A clause ended by the termination says so
    Given these events are appended:
      """
      events:
        - {type: termination, effective_on: 2027-06-30,
           source: {citation: "Illustrative", confidence: confirmed}}
      """
    Then from 2027-01-01 to 2027-07-01, clause "azure-exclusivity" is removed by "openai-microsoft#12"
