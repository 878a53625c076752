@portfolio
Feature: Questions across agreements
  A legal-ops team or a fund holds many agreements and asks across all of them at once:
  which had a clause of some kind in force on a day, which clauses leave force soon (the
  renewal calendar), and what a party holds — each also as known at an earlier time. The
  answers come from the bitemporal tables, one query each, and say what folding each
  agreement says.

  Background:
    Given the ledger holds the "openai-microsoft" example
    And the ledger holds the events in "amendments/acme-globex.yaml"

  Scenario: Which agreements had an exclusivity clause in force
    When I find the agreements with an "exclusivity" clause in force on 2021-01-01
    Then the agreements found are "openai-microsoft, acme-globex"
    When I find the agreements with an "exclusivity" clause in force on 2023-06-01
    Then the agreements found are "openai-microsoft"
    When I find the agreements with an "exclusivity" clause in force on 2019-01-01
    Then no agreement is found

  Scenario: A condition on the terms narrows the answer
    When I find the agreements with a "revenue_share" clause in force on 2021-01-01 where "rate>10"
    Then the agreements found are "openai-microsoft"
    When I find the agreements with a "revenue_share" clause in force on 2021-01-01 where "threshold>=1000000"
    Then the agreements found are "acme-globex"
    When I find the agreements with an "exclusivity" clause in force on 2021-01-01 where "exclusive=true, holder=acme"
    Then the agreements found are "acme-globex"

  Scenario: The renewal calendar
    When I ask which clauses leave force within 365 days of 2022-06-01
    Then clause "supply-exclusivity" of "acme-globex" leaves force on 2022-12-31 (until)
    When I ask which clauses leave force within 30 days of 2022-06-01
    Then no clause leaves force

  Scenario: What a party holds, across agreements
    When I ask what "acme" holds on 2021-01-01
    Then across agreements, "acme" holds 30% of "globex" under "acme-globex"
    And across agreements, "acme" has invested 25000000 EUR in all
    When I ask what "microsoft" holds on 2021-01-01
    Then across agreements, "microsoft" has invested 1000000000 USD in all

  Scenario: A backdated removal, and what was known before it
    Given I note the time as "before the removal"
    When I append these events:
      """
      agreement: acme-globex
      events:
        - type: amendment
          effective_on: "2021-06-30"
          source: {citation: "Termination letter (invented)", confidence: confirmed}
          changes:
            - remove: supply-exclusivity
      """
    Then the append is accepted
    When I find the agreements with an "exclusivity" clause in force on 2022-01-01
    Then the agreements found are "openai-microsoft"
    When I find the agreements with an "exclusivity" clause in force on 2022-01-01 as known at "before the removal"
    Then the agreements found are "openai-microsoft, acme-globex"
    When I ask which clauses leave force within 400 days of 2021-01-01
    Then clause "supply-exclusivity" of "acme-globex" leaves force on 2021-06-29 (removed)
