@history
Feature: The public record beside the article's story
  The bundled history has two layers. The article layer (openai-microsoft#1 … #11) tells the
  partnership as its source article does; the public record (openai-microsoft#12 … #62,
  ledger/examples/openai-microsoft-record.yaml) is recorded after it: corrections where the
  record contradicts the article or dates what the article could only place in a quarter or
  a year, a retraction of the unsupported "exodus" counts, and the events the article never
  had. Replayed as known just after openai-microsoft#11 was recorded, the ledger still tells
  the article's story; replayed now, it tells the record's. docs/public-record.md says where
  each fact of the record went. An event id as "known at" means as known just after that
  event was recorded.

  Background:
    Given the ledger holds the "openai-microsoft" example with the public record

  Scenario: The partnership opened on 22 July 2019, not on the first of the month
    When I replay to 2019-07-01 as known at "openai-microsoft#11"
    Then clause "azure-exclusivity" is in force
    And "microsoft" has invested 1000000000 USD in "openai"
    When I replay to 2019-07-01
    Then the replay is refused with a message containing "it opened on 2019-07-22"

  Scenario: At the 2019 formation the record knows four clauses, the article seven
    When I replay to 2019-07-22 as known at "openai-microsoft#11"
    Then the clauses in force are "azure-exclusivity, microsoft-profit-share, openai-revenue-share, azure-revenue-share, microsoft-ip-rights, agi-clause, restructuring-veto"
    And a "revenue_share" clause is in force
    And clause "restructuring-veto" is in force
    When I replay to 2019-07-22
    Then the clauses in force are "azure-exclusivity, microsoft-profit-share, microsoft-ip-rights, agi-clause"
    And no "revenue_share" clause is in force
    And no "veto" clause is in force
    And term "exclusive" of clause "azure-exclusivity" is "true"
    And "microsoft" has invested 1000000000 USD in "openai"

  Scenario: No public source gives the 10x cap, and the 49% comes only in January 2023
    When I replay to 2019-07-22 as known at "openai-microsoft#11"
    Then term "cap_multiple" of clause "microsoft-profit-share" is "10"
    And term "rate" of clause "microsoft-profit-share" is "49"
    When I replay to 2019-07-22
    Then term "cap_multiple" of clause "microsoft-profit-share" is unknown
    And term "rate" of clause "microsoft-profit-share" is unknown
    When I replay to 2023-01-23
    Then term "rate" of clause "microsoft-profit-share" is "49"
    And term "cap_multiple" of clause "microsoft-profit-share" is unknown
    And clause "microsoft-recoup-phase" is in force

  Scenario: The IP rights of 2019: pre-AGI technologies, with no end date on the record
    When I replay to 2019-07-22 as known at "openai-microsoft#11"
    Then clause "microsoft-ip-rights" has until 2030-12-31
    And term "determined_by" of clause "agi-clause" is unknown
    When I replay to 2019-07-22
    Then clause "microsoft-ip-rights" has no until
    And term "effect" of clause "agi-clause" is "AGI is excluded from what OpenAI licenses to Microsoft: the licence and Microsoft's commercialization cover pre-AGI technologies only"
    And term "determined_by" of clause "agi-clause" is unknown

  Scenario: By mid-2021 the record has a GPT-3 licence and $3 billion invested
    When I replay to 2021-06-30 as known at "openai-microsoft#11"
    Then "microsoft" has invested 1000000000 USD in "openai"
    And clause "gpt3-licence" is not in force
    When I replay to 2021-06-30
    Then "microsoft" has invested 3000000000 USD in "openai"
    And clause "gpt3-licence" is in force
    And an "ip_rights" clause is in force

  Scenario: On 23 January 2023 the third phase brings the total to $13 billion
    When I replay to 2023-01-23 as known at "openai-microsoft#11"
    Then "microsoft" has invested 1000000000 USD in "openai"
    And 2 events apply
    When I replay to 2023-01-23
    Then "microsoft" has invested 13000000000 USD in "openai"
    And term "exclusive" of clause "azure-exclusivity" is "true"
    And clause "microsoft-agi-bar" is in force
    And term "determined_by" of clause "agi-clause" is "OpenAI's board declares AGI (cutting Microsoft off from post-AGI models); whether 'sufficient AGI' (the ~$100B profit test) is reached, Microsoft can contest in court"
    And 10 events apply

  Scenario: 17 November 2023: the article already shows the return; the record shows the firing
    When I replay to 2023-11-17 as known at "openai-microsoft#11"
    Then the governance record shows a "ceo_removed" event on 2023-Q4
    And the governance record shows a "ceo_reinstated" event on 2023-Q4
    And the governance record shows a "departure" event involving "Jan Leike"
    When I replay to 2023-11-17
    Then the governance record shows a "ceo_removed" event on 2023-11-17
    And the governance record shows no "ceo_reinstated" event
    And the governance record shows no "departure" event

  Scenario: 20 to 22 November 2023: Microsoft's offer and the new board, before the return
    When I replay to 2023-11-22
    Then the governance record shows an "other" event involving "Greg Brockman"
    And the governance record shows an "other" event on 2023-11-20
    And the governance record shows a "board_changed" event on 2023-11-22
    And the governance record shows a "board_changed" event involving "Bret Taylor"
    And the governance record shows no "ceo_reinstated" event
    When I replay to 2023-11-22 as known at "openai-microsoft#11"
    Then the governance record shows no "board_changed" event
    And the governance record shows 4 events

  Scenario: 29 November 2023: Altman reinstated, and Microsoft takes an observer seat
    When I replay to 2023-11-29
    Then the governance record shows a "ceo_reinstated" event on 2023-11-29
    And the governance record shows an "observer_seat_granted" event on 2023-11-29
    When I replay to 2023-11-29 as known at "openai-microsoft#11"
    Then the governance record shows no "observer_seat_granted" event

  Scenario: The safety leaders left in May 2024, not in late 2023; the exodus counts are retracted
    When I replay to 2023-12-31 as known at "openai-microsoft#11"
    Then the governance record shows 2 "departure" events
    And the governance record shows a "departure" event involving "Ilya Sutskever"
    When I replay to 2023-12-31
    Then the governance record shows no "departure" event
    When I replay to 2024-06-30
    Then the governance record shows a "departure" event on 2024-05-14
    And the governance record shows a "departure" event on 2024-05-15
    And the governance record shows 2 "departure" events
    And the history shows event "openai-microsoft#6" withdrawn by "openai-microsoft#17"

  Scenario: Mid-2024: no revenue share is on the public record yet; the observer seat is held
    When I replay to 2024-06-30 as known at "openai-microsoft#11"
    Then clause "openai-revenue-share" is in force
    And term "rate" of clause "openai-revenue-share" is "20"
    And the governance record shows no "observer_seat_granted" event
    When I replay to 2024-06-30
    Then no "revenue_share" clause is in force
    And the governance record shows an "observer_seat_granted" event on 2023-11-29
    And the governance record shows no "observer_seat_relinquished" event
    When I replay to 2024-10-01
    Then term "rate" of clause "openai-revenue-share" is "20"
    And the governance record shows an "observer_seat_relinquished" event on 2024-07-09

  Scenario: 21 January 2025: exclusivity becomes a right of first refusal
    When I replay to 2025-01-21 as known at "openai-microsoft#11"
    Then term "exclusive" of clause "azure-exclusivity" is "true"
    And term "right_of_first_refusal" of clause "azure-exclusivity" is unknown
    And clause "azure-api-exclusivity" is not in force
    When I replay to 2025-01-21
    Then term "exclusive" of clause "azure-exclusivity" is "false"
    And term "right_of_first_refusal" of clause "azure-exclusivity" is "true"
    And clause "azure-api-exclusivity" has until 2030-12-31
    And clause "microsoft-ip-rights" has until 2030-12-31
    And clause "openai-revenue-share" has until 2030-12-31
    And clause "azure-revenue-share" is in force
    And term "rate" of clause "azure-revenue-share" is unknown

  Scenario: The 2025 talks as the record has them: proposals the article never had
    When I replay to 2025-06-30
    Then renegotiation "2025-terms" is "open"
    And proposal "revenue-share-cut-to-10" of renegotiation "2025-terms" is "pending"
    And proposal "equity-for-post-2030-access" of renegotiation "2025-terms" is "pending"
    And proposal "agi-clause-removal" of renegotiation "2025-terms" is "pending"
    And clause "restructuring-veto" is in force
    When I replay to 2025-09-12
    Then proposal "equity-for-revenue" of renegotiation "2025-terms" is "pending"
    And proposal "next-phase-mou" of renegotiation "2025-terms" is "pending"

  Scenario: 28 October 2025: the recapitalisation, as the record has it
    When I replay to 2025-10-28
    Then the governance record shows a "restructuring" event on 2025-10-28
    And "microsoft" holds 27% of "openai-for-profit"
    And "openai" holds 26% of "openai-for-profit"
    And clause "microsoft-profit-share" is not in force
    And renegotiation "2025-terms" is "concluded"
    And proposal "next-phase-mou" of renegotiation "2025-terms" is "accepted"
    And proposal "equity-for-revenue" of renegotiation "2025-terms" is "superseded"
    And proposal "agi-clause-removal" of renegotiation "2025-terms" is "superseded"

  Scenario: 28 October 2025, as the article told it: still planned, still in talks
    When I replay to 2025-10-28 as known at "openai-microsoft#11"
    Then the governance record shows no "restructuring" event
    And "microsoft" holds no stake in "openai-for-profit"
    And term "cap_multiple" of clause "microsoft-profit-share" is "10"
    And renegotiation "2025-terms" is "open"
    And proposal "equity-for-revenue" of renegotiation "2025-terms" is "pending"

  Scenario: 1 November 2025: IP rights to 2032 and the AGI expert panel
    When I replay to 2025-11-01
    Then clause "microsoft-ip-rights" has until 2032-12-31
    And clause "microsoft-research-ip" has until 2030-12-31
    And term "determined_by" of clause "agi-clause" is "an independent expert panel must verify any declaration of AGI by OpenAI"
    And clause "azure-exclusivity" is not in force
    And term "exclusive" of clause "azure-api-exclusivity" is "true"
    And clause "azure-api-exclusivity" has no until
    And clause "openai-revenue-share" has no until
    And term "rate" of clause "azure-revenue-share" is "20"
    And "microsoft" has invested 13000000000 USD in "openai"
    And 50 events apply
    When I replay to 2025-11-01 as known at "openai-microsoft#11"
    Then clause "microsoft-ip-rights" has until 2030-12-31
    And term "determined_by" of clause "agi-clause" is unknown
    And "microsoft" has invested 1000000000 USD in "openai"
    And 11 events apply

  Scenario: After 2030 the article's IP rights have expired; the record's run to 2032
    When I replay to 2031-01-01 as known at "openai-microsoft#11"
    Then no "ip_rights" clause is in force
    When I replay to 2031-01-01
    Then clause "microsoft-ip-rights" is in force
    And clause "microsoft-research-ip" is not in force

  Scenario: Mid-2026: the AGI clause is gone and the revenue share is capped
    When I replay to 2026-06-30 as known at "openai-microsoft#11"
    Then clause "agi-clause" is in force
    And clause "azure-revenue-share" is in force
    And term "threshold" of clause "openai-revenue-share" is unknown
    When I replay to 2026-06-30
    Then clause "agi-clause" is not in force
    And clause "azure-revenue-share" is not in force
    And clause "azure-api-exclusivity" is not in force
    And term "exclusive" of clause "azure-first-ship" is "false"
    And term "threshold" of clause "openai-revenue-share" is "38000000000 USD"
    And clause "openai-revenue-share" has until 2030-12-31
    And "microsoft" holds 27% of "openai-for-profit"

  Scenario: The log keeps both layers: what the record withdrew, and what it left standing
    Then the history shows 62 events
    And the history shows event "openai-microsoft#1" withdrawn by "openai-microsoft#12"
    And the history shows event "openai-microsoft#2" withdrawn by "openai-microsoft#13"
    And the history shows event "openai-microsoft#3" withdrawn by "openai-microsoft#14"
    And the history shows event "openai-microsoft#4" withdrawn by "openai-microsoft#15"
    And the history shows event "openai-microsoft#5" withdrawn by "openai-microsoft#16"
    And the history shows event "openai-microsoft#6" withdrawn by "openai-microsoft#17"
    And the history shows event "openai-microsoft#9" withdrawn by "openai-microsoft#18"
    And the history shows event "openai-microsoft#11" withdrawn by "openai-microsoft#19"
    And the history shows event "openai-microsoft#7" not withdrawn
    And the history shows event "openai-microsoft#8" not withdrawn
    And the history shows event "openai-microsoft#10" not withdrawn

  Scenario: What the public record changed about the article's story of mid-2024
    Then on 2024-06-30, between known at "openai-microsoft#11" and known at "now", clause "openai-revenue-share" is removed by "openai-microsoft#12"
    And on 2024-06-30, between known at "openai-microsoft#11" and known at "now", clause "gpt3-licence" is added by "openai-microsoft#20"
    And on 2024-06-30, between known at "openai-microsoft#11" and known at "now", clause "microsoft-profit-share" is added by "openai-microsoft#26"

  Scenario: The record's changes to the story of 2025-11-01, one layer against the other
    Then on 2025-11-01, between known at "openai-microsoft#11" and known at "openai-microsoft#62", clause "microsoft-ip-rights" is added by "openai-microsoft#12"
