//! Golden due times: a start instant, a calendar and a target duration, and the instant the
//! target falls due, each worked out by hand in the comment above it.
//!
//! Business targets count only open time ([`Calendar::add_business_time`]); a few wall-clock
//! targets are listed for contrast. A second table checks
//! [`Calendar::business_time_between`]. Instants are RFC 3339 with the local offset (or `Z`),
//! so each case reads as the people involved would see it.

use switchboard_core::calendar::{BusinessHours, Calendar};
use switchboard_core::time::Timestamp;

const M: u64 = 60_000;
const H: u64 = 60 * M;

const BERLIN_OFFICE: &str = r#"{"time_zone": "Europe/Berlin", "weekly": {
    "monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"},
    "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"},
    "friday": {"start": "09:00", "end": "17:00"}}}"#;

const BERLIN_LUNCH: &str = r#"{"time_zone": "Europe/Berlin", "weekly": {
    "monday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
    "tuesday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
    "wednesday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
    "thursday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
    "friday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]}}"#;

const BERLIN_HOLIDAYS: &str = r#"{"time_zone": "Europe/Berlin", "weekly": {
    "monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"},
    "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"},
    "friday": {"start": "09:00", "end": "17:00"}},
    "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}, {"date": "2026-12-26"},
                 {"date": "2027-01-01", "name": "New Year's Day"}],
    "special_days": [
        {"date": "2026-12-24", "name": "Christmas Eve", "hours": [{"start": "09:00", "end": "12:00"}]},
        {"date": "2026-12-31", "name": "New Year's Eve", "hours": [{"start": "09:00", "end": "12:00"}]}]}"#;

const BERLIN_NIGHTS: &str = r#"{"time_zone": "Europe/Berlin", "weekly": {
    "monday": {"start": "01:00", "end": "05:00"}, "tuesday": {"start": "01:00", "end": "05:00"},
    "wednesday": {"start": "01:00", "end": "05:00"}, "thursday": {"start": "01:00", "end": "05:00"},
    "friday": {"start": "01:00", "end": "05:00"}, "saturday": {"start": "01:00", "end": "05:00"},
    "sunday": {"start": "01:00", "end": "05:00"}}}"#;

const BERLIN_ALWAYS: &str = r#"{"time_zone": "Europe/Berlin", "weekly": {
    "monday": {"start": "00:00", "end": "24:00"}, "tuesday": {"start": "00:00", "end": "24:00"},
    "wednesday": {"start": "00:00", "end": "24:00"}, "thursday": {"start": "00:00", "end": "24:00"},
    "friday": {"start": "00:00", "end": "24:00"}, "saturday": {"start": "00:00", "end": "24:00"},
    "sunday": {"start": "00:00", "end": "24:00"}}}"#;

const NEW_YORK_OFFICE: &str = r#"{"time_zone": "America/New_York", "weekly": {
    "monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"},
    "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"},
    "friday": {"start": "09:00", "end": "17:00"}},
    "holidays": [{"date": "2026-11-26", "name": "Thanksgiving"}],
    "special_days": [{"date": "2026-11-27", "hours": [{"start": "09:00", "end": "13:00"}]}]}"#;

const NEW_YORK_NIGHTS: &str = r#"{"time_zone": "America/New_York", "weekly": {
    "monday": {"start": "20:00", "end": "04:00"}, "tuesday": {"start": "20:00", "end": "04:00"},
    "wednesday": {"start": "20:00", "end": "04:00"}, "thursday": {"start": "20:00", "end": "04:00"},
    "friday": {"start": "20:00", "end": "04:00"}, "saturday": {"start": "20:00", "end": "04:00"},
    "sunday": {"start": "20:00", "end": "04:00"}}}"#;

const TOKYO_OFFICE: &str = r#"{"time_zone": "Asia/Tokyo", "weekly": {
    "monday": {"start": "09:00", "end": "18:00"}, "tuesday": {"start": "09:00", "end": "18:00"},
    "wednesday": {"start": "09:00", "end": "18:00"}, "thursday": {"start": "09:00", "end": "18:00"},
    "friday": {"start": "09:00", "end": "18:00"}}}"#;

const SYDNEY_OFFICE: &str = r#"{"time_zone": "Australia/Sydney", "weekly": {
    "monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"},
    "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"},
    "friday": {"start": "09:00", "end": "17:00"}}}"#;

const SYDNEY_SUNDAYS: &str = r#"{"time_zone": "Australia/Sydney", "weekly": {
    "sunday": {"start": "00:00", "end": "24:00"}}}"#;

const KOLKATA_OFFICE: &str = r#"{"time_zone": "Asia/Kolkata", "weekly": {
    "monday": {"start": "10:00", "end": "19:00"}, "tuesday": {"start": "10:00", "end": "19:00"},
    "wednesday": {"start": "10:00", "end": "19:00"}, "thursday": {"start": "10:00", "end": "19:00"},
    "friday": {"start": "10:00", "end": "19:00"}, "saturday": {"start": "10:00", "end": "19:00"}}}"#;

const UTC_OFFICE: &str = r#"{"time_zone": "UTC", "weekly": {
    "monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"},
    "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"},
    "friday": {"start": "09:00", "end": "17:00"}}}"#;

const UTC_ALWAYS: &str = r#"{"time_zone": "UTC", "weekly": {
    "monday": {"start": "00:00", "end": "24:00"}, "tuesday": {"start": "00:00", "end": "24:00"},
    "wednesday": {"start": "00:00", "end": "24:00"}, "thursday": {"start": "00:00", "end": "24:00"},
    "friday": {"start": "00:00", "end": "24:00"}, "saturday": {"start": "00:00", "end": "24:00"},
    "sunday": {"start": "00:00", "end": "24:00"}}}"#;

const NEVER: &str = r#"{"time_zone": "UTC", "weekly": {}}"#;

const RARE: &str = r#"{"time_zone": "UTC", "weekly": {}, "special_days": [
    {"date": "2028-12-31", "hours": [{"start": "09:00", "end": "17:00"}]},
    {"date": "2029-01-02", "hours": [{"start": "09:00", "end": "17:00"}]}]}"#;

/// How a target is counted.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// Open time of the calendar only.
    Business(u64),
    /// Every millisecond, open or not.
    Wall(u64),
}

use Target::{Business, Wall};

struct Case {
    name: &'static str,
    calendar: &'static str,
    start: &'static str,
    target: Target,
    due: Option<&'static str>,
}

const fn case(
    name: &'static str,
    calendar: &'static str,
    start: &'static str,
    target: Target,
    due: Option<&'static str>,
) -> Case {
    Case {
        name,
        calendar,
        start,
        target,
        due,
    }
}

#[rustfmt::skip]
const DUE_TIMES: &[Case] = &[
    // Created Tue 2026-06-02 10:00 Berlin (CEST), 4 business hours, open Mon-Fri 09:00-17:00:
    // 10:00 + 4h = 14:00, before closing -> Tue 14:00.
    case("berlin: within one day", BERLIN_OFFICE,
        "2026-06-02T10:00:00+02:00", Business(4 * H), Some("2026-06-02T14:00:00+02:00")),
    // Created Fri 16:30 Berlin, 8 business hours, open Mon-Fri 09:00-17:00: 30 min on Fri
    // (to 17:00), 7h30 on Mon from 09:00 -> Mon 16:30.
    case("berlin: Friday afternoon over the weekend", BERLIN_OFFICE,
        "2026-02-13T16:30:00+01:00", Business(8 * H), Some("2026-02-16T16:30:00+01:00")),
    // Created Mon 07:15, before opening: counting starts at 09:00; 09:00 + 2h -> Mon 11:00.
    case("berlin: created before opening", BERLIN_OFFICE,
        "2026-02-16T07:15:00+01:00", Business(2 * H), Some("2026-02-16T11:00:00+01:00")),
    // Created Mon 18:00, after closing: counting starts Tue 09:00; + 1h -> Tue 10:00.
    case("berlin: created after closing", BERLIN_OFFICE,
        "2026-02-16T18:00:00+01:00", Business(H), Some("2026-02-17T10:00:00+01:00")),
    // Created Sat 12:00: nothing opens until Mon 09:00; + 3h -> Mon 12:00.
    case("berlin: created on a Saturday", BERLIN_OFFICE,
        "2026-02-14T12:00:00+01:00", Business(3 * H), Some("2026-02-16T12:00:00+01:00")),
    // Created Mon 17:00 sharp: the closing instant is already closed, so counting starts
    // Tue 09:00; + 30 min -> Tue 09:30.
    case("berlin: created exactly at closing", BERLIN_OFFICE,
        "2026-02-16T17:00:00+01:00", Business(30 * M), Some("2026-02-17T09:30:00+01:00")),
    // Created Mon 09:00, 8h: the whole day 09:00-17:00 is 8h, used up as Monday closes; the
    // answer is the closing instant Mon 17:00, not Tue 09:00.
    case("berlin: used up exactly at closing", BERLIN_OFFICE,
        "2026-02-16T09:00:00+01:00", Business(8 * H), Some("2026-02-16T17:00:00+01:00")),
    // Zero target while open: due at once, the start instant itself (to the millisecond).
    case("berlin: zero target while open", BERLIN_OFFICE,
        "2026-02-17T11:11:11.111+01:00", Business(0), Some("2026-02-17T11:11:11.111+01:00")),
    // Zero target on Sat 12:00 while closed: due at the next opening, Mon 09:00.
    case("berlin: zero target while closed", BERLIN_OFFICE,
        "2026-02-14T12:00:00+01:00", Business(0), Some("2026-02-16T09:00:00+01:00")),
    // Created Fri 2026-03-27 16:00 CET (15:00 UTC), 2h: 1h on Fri (to 17:00); clocks go
    // forward on Sun 29th; 1h on Mon from 09:00 CEST -> Mon 10:00 CEST (08:00 UTC). Only 65h
    // pass on the wall clock, the weekend lost an hour.
    case("berlin: weekend containing the spring-forward", BERLIN_OFFICE,
        "2026-03-27T16:00:00+01:00", Business(2 * H), Some("2026-03-30T10:00:00+02:00")),
    // Created Fri 2026-10-23 16:00 CEST, 2h: 1h on Fri; clocks go back on Sun 25th; 1h on
    // Mon from 09:00 CET -> Mon 10:00 CET.
    case("berlin: weekend containing the fall-back", BERLIN_OFFICE,
        "2026-10-23T16:00:00+02:00", Business(2 * H), Some("2026-10-26T10:00:00+01:00")),
    // Created Mon 2026-06-01 09:00, 100h = 12 full days of 8h (96h) + 4h: Jun 1-5 (40h),
    // Jun 8-12 (80h), Mon 15 and Tue 16 (96h), then Wed 17 09:00 + 4h -> Wed 13:00.
    case("berlin: several weeks", BERLIN_OFFICE,
        "2026-06-01T09:00:00+02:00", Business(100 * H), Some("2026-06-17T13:00:00+02:00")),
    // Created Mon 2026-09-14 09:00 CEST, 280h = 35 days of 8h = 7 weeks of Mon-Fri: the 35th
    // day is Fri 2026-10-30, now in CET, used up as it closes -> Fri 17:00 CET.
    case("berlin: seven weeks across the fall-back", BERLIN_OFFICE,
        "2026-09-14T09:00:00+02:00", Business(280 * H), Some("2026-10-30T17:00:00+01:00")),
    // Created 2026-02-16 23:30 UTC, which is already Tue 00:30 in Berlin: counting starts
    // Tue 09:00; + 1h -> Tue 10:00.
    case("berlin: start given in UTC on the previous UTC day", BERLIN_OFFICE,
        "2026-02-16T23:30:00Z", Business(H), Some("2026-02-17T10:00:00+01:00")),
    // Lunch break, open 09:00-12:00 and 13:00-17:00. Created Tue 11:00, 2h: 1h to 12:00, the
    // pause, 1h from 13:00 -> Tue 14:00.
    case("lunch break: across the pause", BERLIN_LUNCH,
        "2026-02-17T11:00:00+01:00", Business(2 * H), Some("2026-02-17T14:00:00+01:00")),
    // Created Tue 10:00, 2h: 10:00-12:00 uses it up as the morning closes -> Tue 12:00.
    case("lunch break: used up as the morning closes", BERLIN_LUNCH,
        "2026-02-17T10:00:00+01:00", Business(2 * H), Some("2026-02-17T12:00:00+01:00")),
    // Created Tue 12:30, during the pause: counting starts 13:00; + 30 min -> Tue 13:30.
    case("lunch break: created during the pause", BERLIN_LUNCH,
        "2026-02-17T12:30:00+01:00", Business(30 * M), Some("2026-02-17T13:30:00+01:00")),
    // Created Tue 09:00, 10h: Tuesday holds 3h + 4h = 7h; Wed 09:00 + 3h -> Wed 12:00.
    case("lunch break: a day holds seven hours", BERLIN_LUNCH,
        "2026-02-17T09:00:00+01:00", Business(10 * H), Some("2026-02-18T12:00:00+01:00")),
    // Created Wed 2026-12-23 15:00, 8h: 2h on Wed (to 17:00); Thu 24th is a special day
    // 09:00-12:00 (3h, 5h so far); Fri 25th is a holiday, then the weekend; Mon 28th
    // 09:00 + 3h -> Mon 12:00.
    case("holiday: Christmas Day and a short Christmas Eve", BERLIN_HOLIDAYS,
        "2026-12-23T15:00:00+01:00", Business(8 * H), Some("2026-12-28T12:00:00+01:00")),
    // Created Thu 2026-12-24 11:00, 2h: the special day closes at 12:00 (1h); Fri is a
    // holiday; Mon 28th 09:00 + 1h -> Mon 10:00.
    case("special day: shorter hours close early", BERLIN_HOLIDAYS,
        "2026-12-24T11:00:00+01:00", Business(2 * H), Some("2026-12-28T10:00:00+01:00")),
    // Created on Fri 2027-01-01 10:00, a holiday: counting starts Mon 4th 09:00; + 1h -> 10:00.
    case("holiday: created on the holiday", BERLIN_HOLIDAYS,
        "2027-01-01T10:00:00+01:00", Business(H), Some("2027-01-04T10:00:00+01:00")),
    // Created Wed 2026-12-30 16:00, 6h: 1h on Wed; Thu 31st special 09:00-12:00 (3h, 4h so
    // far); Fri Jan 1st holiday; Mon 4th 09:00 + 2h -> Mon 11:00.
    case("holiday: across the year end", BERLIN_HOLIDAYS,
        "2026-12-30T16:00:00+01:00", Business(6 * H), Some("2027-01-04T11:00:00+01:00")),
    // Open 01:00-05:00 every night. On Sun 2026-03-29 clocks jump from 02:00 CET to 03:00
    // CEST: 01:00 CET (00:00 UTC) to 05:00 CEST (03:00 UTC) is 3h, used up as it closes.
    case("berlin nights: the spring-forward night is 3 hours", BERLIN_NIGHTS,
        "2026-03-29T01:00:00+01:00", Business(3 * H), Some("2026-03-29T05:00:00+02:00")),
    // Same start, 4h: 3h that night; Mon 30th 01:00 CEST + 1h -> Mon 02:00 CEST.
    case("berlin nights: the spring-forward night spills into the next", BERLIN_NIGHTS,
        "2026-03-29T01:00:00+01:00", Business(4 * H), Some("2026-03-30T02:00:00+02:00")),
    // On Sun 2026-10-25 clocks go back from 03:00 CEST to 02:00 CET: 01:00 CEST (23:00 UTC
    // the day before) to 05:00 CET (04:00 UTC) is 5h, used up as it closes.
    case("berlin nights: the fall-back night is 5 hours", BERLIN_NIGHTS,
        "2026-10-25T01:00:00+02:00", Business(5 * H), Some("2026-10-25T05:00:00+01:00")),
    // Same start, 2h: 23:00 UTC + 2h = 01:00 UTC, the instant clocks go back, which reads
    // 02:00 CET (the second time 02:00 is shown that night).
    case("berlin nights: two hours into the fall-back night", BERLIN_NIGHTS,
        "2026-10-25T01:00:00+02:00", Business(2 * H), Some("2026-10-25T02:00:00+01:00")),
    // Open 24/7 in Berlin: business time is elapsed time. Sat 12:00 CET (11:00 UTC) + 24h =
    // Sun 11:00 UTC, which reads 13:00 CEST after the clocks went forward.
    case("24/7 berlin: a day across the spring-forward", BERLIN_ALWAYS,
        "2026-03-28T12:00:00+01:00", Business(24 * H), Some("2026-03-29T13:00:00+02:00")),
    // Sat 2026-10-24 12:00 CEST (10:00 UTC) + 24h = Sun 10:00 UTC = 11:00 CET.
    case("24/7 berlin: a day across the fall-back", BERLIN_ALWAYS,
        "2026-10-24T12:00:00+02:00", Business(24 * H), Some("2026-10-25T11:00:00+01:00")),
    // New York, open Mon-Fri 09:00-17:00. Created Fri 2026-03-06 15:00 EST, 4h: 2h on Fri;
    // clocks go forward Sun 8th; Mon 09:00 EDT + 2h -> Mon 11:00 EDT.
    case("new york: weekend containing the spring-forward", NEW_YORK_OFFICE,
        "2026-03-06T15:00:00-05:00", Business(4 * H), Some("2026-03-09T11:00:00-04:00")),
    // Created Fri 2026-10-30 16:00 EDT, 3h: 1h on Fri; clocks go back Sun Nov 1st; Mon
    // 09:00 EST + 2h -> Mon 11:00 EST.
    case("new york: weekend containing the fall-back", NEW_YORK_OFFICE,
        "2026-10-30T16:00:00-04:00", Business(3 * H), Some("2026-11-02T11:00:00-05:00")),
    // Created Wed 2026-11-25 15:00, 8h: 2h on Wed; Thanksgiving (Thu) is a holiday; Fri is a
    // special day 09:00-13:00 (4h, 6h so far); Mon 30th 09:00 + 2h -> Mon 11:00.
    case("new york: Thanksgiving and a short Friday", NEW_YORK_OFFICE,
        "2026-11-25T15:00:00-05:00", Business(8 * H), Some("2026-11-30T11:00:00-05:00")),
    // Created 2026-02-17 03:00 UTC, which is Mon 22:00 EST: counting starts Tue 09:00;
    // + 1h -> Tue 10:00 EST.
    case("new york: start given in UTC on the next UTC day", NEW_YORK_OFFICE,
        "2026-02-17T03:00:00Z", Business(H), Some("2026-02-17T10:00:00-05:00")),
    // New York, open 20:00-04:00 every night (each interval crosses midnight). Created Tue
    // 23:00, 3h -> Wed 02:00, inside Tuesday's interval.
    case("crossing midnight: within the night", NEW_YORK_NIGHTS,
        "2026-02-17T23:00:00-05:00", Business(3 * H), Some("2026-02-18T02:00:00-05:00")),
    // Created Tue 23:00, 6h: 5h to Wed 04:00; Wed 20:00 + 1h -> Wed 21:00.
    case("crossing midnight: into the next evening", NEW_YORK_NIGHTS,
        "2026-02-17T23:00:00-05:00", Business(6 * H), Some("2026-02-18T21:00:00-05:00")),
    // Created Wed 03:30, inside Tuesday's interval: 30 min to 04:00; Wed 20:00 + 30 min ->
    // Wed 20:30.
    case("crossing midnight: created in the early hours", NEW_YORK_NIGHTS,
        "2026-02-18T03:30:00-05:00", Business(H), Some("2026-02-18T20:30:00-05:00")),
    // Sat 2026-03-07 20:00 EST (01:00 UTC) to Sun 04:00 EDT (08:00 UTC) is 7h, clocks jump
    // at 02:00; 8h needs 1h more: Sun 20:00 EDT + 1h -> Sun 21:00 EDT.
    case("crossing midnight: the spring-forward night is 7 hours", NEW_YORK_NIGHTS,
        "2026-03-07T20:00:00-05:00", Business(8 * H), Some("2026-03-08T21:00:00-04:00")),
    // Sat 2026-10-31 20:00 EDT (Nov 1st 00:00 UTC) to Sun 04:00 EST (09:00 UTC) is 9h; 8h
    // after 00:00 UTC is 08:00 UTC = Sun 03:00 EST.
    case("crossing midnight: the fall-back night is 9 hours", NEW_YORK_NIGHTS,
        "2026-10-31T20:00:00-04:00", Business(8 * H), Some("2026-11-01T03:00:00-05:00")),
    // Tokyo (UTC+9, no daylight saving), open Mon-Fri 09:00-18:00. Created Thu 17:00, 3h:
    // 1h on Thu; Fri 09:00 + 2h -> Fri 11:00.
    case("tokyo: the next morning", TOKYO_OFFICE,
        "2026-05-14T17:00:00+09:00", Business(3 * H), Some("2026-05-15T11:00:00+09:00")),
    // Created 2026-05-17 23:30 UTC (a Sunday), which is Mon 08:30 in Tokyo: counting starts
    // 09:00; + 9h = the whole day -> Mon 18:00 as it closes.
    case("tokyo: start given in UTC on Sunday", TOKYO_OFFICE,
        "2026-05-17T23:30:00Z", Business(9 * H), Some("2026-05-18T18:00:00+09:00")),
    // Sydney, open Mon-Fri 09:00-17:00; daylight saving starts Sun 2026-10-04 (AEST +10 to
    // AEDT +11). Created Fri 16:00 AEST, 2h: 1h on Fri; Mon 09:00 AEDT + 1h -> Mon 10:00.
    case("sydney: weekend containing the daylight-saving start", SYDNEY_OFFICE,
        "2026-10-02T16:00:00+10:00", Business(2 * H), Some("2026-10-05T10:00:00+11:00")),
    // Daylight saving ends Sun 2026-04-05 (AEDT +11 to AEST +10). Created Fri 16:00 AEDT,
    // 2h: 1h on Fri; Mon 09:00 AEST + 1h -> Mon 10:00 AEST.
    case("sydney: weekend containing the daylight-saving end", SYDNEY_OFFICE,
        "2026-04-03T16:00:00+11:00", Business(2 * H), Some("2026-04-06T10:00:00+10:00")),
    // Sydney, open Sundays 00:00-24:00. Sun 2026-04-05 has 25 hours: 00:00 AEDT (Sat 13:00
    // UTC) + 24h = Sun 13:00 UTC, which reads 23:00 AEST, one hour before the day ends.
    case("sydney sundays: the 25-hour Sunday", SYDNEY_SUNDAYS,
        "2026-04-05T00:00:00+11:00", Business(24 * H), Some("2026-04-05T23:00:00+10:00")),
    // Sun 2026-10-04 has 23 hours: 00:00 AEST (Sat 14:00 UTC) to Mon 00:00 AEDT (Sun 13:00
    // UTC); 24h needs 1h more: next Sunday 00:00 AEDT + 1h -> Sun Oct 11th 01:00.
    case("sydney sundays: the 23-hour Sunday", SYDNEY_SUNDAYS,
        "2026-10-04T00:00:00+10:00", Business(24 * H), Some("2026-10-11T01:00:00+11:00")),
    // Kolkata (UTC+5:30), open Mon-Sat 10:00-19:00. Created 2026-06-05 13:00 UTC = Fri 18:30
    // IST, 2h: 30 min on Fri; Sat 10:00 + 1h30 -> Sat 11:30.
    case("kolkata: half-hour offset", KOLKATA_OFFICE,
        "2026-06-05T13:00:00Z", Business(2 * H), Some("2026-06-06T11:30:00+05:30")),
    // Created Sat 18:00, 3h: 1h on Sat; Sunday closed; Mon 10:00 + 2h -> Mon 12:00.
    case("kolkata: open Saturday, closed Sunday", KOLKATA_OFFICE,
        "2026-06-06T18:00:00+05:30", Business(3 * H), Some("2026-06-08T12:00:00+05:30")),
    // UTC, open Mon-Fri 09:00-17:00. Created Wed 2026-07-01 13:00, 200h: 4h on Wed; Thu, Fri
    // (16h, 20h); four full weeks Jul 6-31 (160h, 180h); Mon Aug 3rd, Tue 4th (196h); Wed
    // 5th 09:00 + 4h -> Wed 13:00.
    case("utc: five weeks", UTC_OFFICE,
        "2026-07-01T13:00:00Z", Business(200 * H), Some("2026-08-05T13:00:00Z")),
    // Open 24/7 in UTC: business time is wall time; 100h = 4 days 4h -> Sat 14:20:30.456.
    case("24/7 utc: business time is wall time", UTC_ALWAYS,
        "2026-02-17T10:20:30.456Z", Business(100 * H), Some("2026-02-21T14:20:30.456Z")),
    // A calendar without any hours never opens: no due time.
    case("never open", NEVER,
        "2026-02-17T10:00:00Z", Business(H), None),
    // Not even a zero target: it would be due at the next opening, which never comes.
    case("never open: zero target", NEVER,
        "2026-02-17T10:00:00Z", Business(0), None),
    // Only two special days, 2028-12-31 and 2029-01-02, 09:00-17:00 UTC. From 2026-01-01
    // the horizon (1,096 days) ends 2029-01-01 00:00: Dec 31st 09:00 + 1h -> 10:00.
    case("rare: a special day within the horizon", RARE,
        "2026-01-01T00:00:00Z", Business(H), Some("2028-12-31T10:00:00Z")),
    // 9h: 8h on Dec 31st, the last hour would be on 2029-01-02, past the horizon: no due time.
    case("rare: the rest lies past the horizon", RARE,
        "2026-01-01T00:00:00Z", Business(9 * H), None),
    // For contrast, wall-clock targets ignore the calendar. Fri 16:30 + 8h -> Sat 00:30
    // (the business target from the same start is due Mon 16:30).
    case("wall clock: Friday afternoon plus 8 hours", BERLIN_OFFICE,
        "2026-02-13T16:30:00+01:00", Wall(8 * H), Some("2026-02-14T00:30:00+01:00")),
    // Sat 12:00 CET + 24h of elapsed time -> Sun 13:00 CEST, the same as the 24/7 calendar.
    case("wall clock: a day across the spring-forward", BERLIN_OFFICE,
        "2026-03-28T12:00:00+01:00", Wall(24 * H), Some("2026-03-29T13:00:00+02:00")),
    // Fri 15:00 EST + 4h -> Fri 19:00 EST (the business target is due Mon 11:00 EDT).
    case("wall clock: Friday afternoon in New York", NEW_YORK_OFFICE,
        "2026-03-06T15:00:00-05:00", Wall(4 * H), Some("2026-03-06T19:00:00-05:00")),
];

struct Between {
    name: &'static str,
    calendar: &'static str,
    from: &'static str,
    to: &'static str,
    open: u64,
}

const fn between(
    name: &'static str,
    calendar: &'static str,
    from: &'static str,
    to: &'static str,
    open: u64,
) -> Between {
    Between {
        name,
        calendar,
        from,
        to,
        open,
    }
}

#[rustfmt::skip]
const BETWEEN: &[Between] = &[
    // Fri 16:30 to Mon 16:30: 30 min on Fri + 7h30 on Mon = 8h (the first due-time case
    // backwards).
    between("berlin: Friday 16:30 to Monday 16:30", BERLIN_OFFICE,
        "2026-02-13T16:30:00+01:00", "2026-02-16T16:30:00+01:00", 8 * H),
    // The whole of Sun 2026-03-29: the 01:00-05:00 interval loses the skipped hour -> 3h.
    between("berlin nights: the spring-forward day", BERLIN_NIGHTS,
        "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 3 * H),
    // The whole of Sun 2026-10-25: the interval gains the repeated hour -> 5h.
    between("berlin nights: the fall-back day", BERLIN_NIGHTS,
        "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 5 * H),
    // Sat noon to Sun noon holds only Saturday's 20:00 EDT to 04:00 EST -> 9h.
    between("new york nights: the fall-back weekend", NEW_YORK_NIGHTS,
        "2026-10-31T12:00:00-04:00", "2026-11-01T12:00:00-05:00", 9 * H),
    // Dec 21st to Jan 4th: Mon-Wed 3 x 8h, Thu 24th 3h, Fri 25th holiday; Mon-Wed 3 x 8h,
    // Thu 31st 3h, Fri Jan 1st holiday -> 24 + 3 + 24 + 3 = 54h.
    between("berlin holidays: the two weeks over Christmas", BERLIN_HOLIDAYS,
        "2026-12-21T00:00:00+01:00", "2027-01-04T00:00:00+01:00", 54 * H),
    // One Tuesday with a lunch break: 3h + 4h = 7h.
    between("lunch break: one Tuesday", BERLIN_LUNCH,
        "2026-02-17T00:00:00+01:00", "2026-02-18T00:00:00+01:00", 7 * H),
    // The end before the start: nothing.
    between("berlin: the end before the start", BERLIN_OFFICE,
        "2026-02-18T12:00:00+01:00", "2026-02-17T12:00:00+01:00", 0),
    // Open 24/7: four weeks of wall time, 28 x 24h = 672h.
    between("24/7 utc: four weeks", UTC_ALWAYS,
        "2026-02-17T10:00:00Z", "2026-03-17T10:00:00Z", 672 * H),
    // Fri 16:00 AEST to Mon 10:00 AEDT: 1h on Fri + 1h on Mon = 2h.
    between("sydney: partial days over the daylight-saving start", SYDNEY_OFFICE,
        "2026-10-02T16:00:00+10:00", "2026-10-05T10:00:00+11:00", 2 * H),
    // Mon to Mon in Kolkata: six days of 9h -> 54h.
    between("kolkata: one week", KOLKATA_OFFICE,
        "2026-06-01T00:00:00+05:30", "2026-06-08T00:00:00+05:30", 54 * H),
    // A calendar that never opens has no open time, however long the span.
    between("never open: ten years", NEVER,
        "2026-01-01T00:00:00Z", "2036-01-01T00:00:00Z", 0),
];

fn compile(name: &str, json: &str) -> (Calendar, jiff::tz::TimeZone) {
    let hours: BusinessHours =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("case {name:?}: calendar: {e}"));
    let calendar =
        Calendar::compile(&hours).unwrap_or_else(|e| panic!("case {name:?}: calendar: {e}"));
    let zone = jiff::tz::TimeZone::get(&hours.time_zone).expect("zone");
    (calendar, zone)
}

fn instant(name: &str, text: &str) -> Timestamp {
    let parsed: jiff::Timestamp = text
        .parse()
        .unwrap_or_else(|e| panic!("case {name:?}: instant {text:?}: {e}"));
    Timestamp(parsed.as_millisecond())
}

/// An instant as people in the calendar's zone read it, for failure messages.
fn shown(instant: Option<Timestamp>, zone: &jiff::tz::TimeZone) -> String {
    match instant {
        None => "no due time".to_owned(),
        Some(instant) => match jiff::Timestamp::from_millisecond(instant.0) {
            Ok(t) => t.to_zoned(zone.clone()).to_string(),
            Err(_) => instant.to_string(),
        },
    }
}

/// A wall-clock target: every millisecond counts.
fn wall_clock_due(start: Timestamp, ms: u64) -> Timestamp {
    start.plus_ms(ms)
}

#[test]
fn due_times() {
    let business = DUE_TIMES
        .iter()
        .filter(|case| matches!(case.target, Business(_)))
        .count();
    assert!(business >= 34, "only {business} business cases");
    let mut failures = Vec::new();
    for case in DUE_TIMES {
        let (calendar, zone) = compile(case.name, case.calendar);
        let start = instant(case.name, case.start);
        let expected = case.due.map(|due| instant(case.name, due));
        let actual = match case.target {
            Business(ms) => calendar.add_business_time(start, ms),
            Wall(ms) => Some(wall_clock_due(start, ms)),
        };
        if actual != expected {
            failures.push(format!(
                "case {:?}: from {} with {:?}: expected {}, got {}",
                case.name,
                case.start,
                case.target,
                shown(expected, &zone),
                shown(actual, &zone)
            ));
        }
        // A business due time holds exactly the target in open time.
        if let (Business(ms), Some(due)) = (case.target, actual) {
            let counted = calendar.business_time_between(start, due);
            if counted != ms {
                failures.push(format!(
                    "case {:?}: {counted} ms open between start and due time, target {ms} ms",
                    case.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn business_time_between() {
    let mut failures = Vec::new();
    for case in BETWEEN {
        let (calendar, _) = compile(case.name, case.calendar);
        let from = instant(case.name, case.from);
        let to = instant(case.name, case.to);
        let actual = calendar.business_time_between(from, to);
        if actual != case.open {
            failures.push(format!(
                "case {:?}: {} to {}: expected {} ms ({:.2} h), got {} ms ({:.2} h)",
                case.name,
                case.from,
                case.to,
                case.open,
                hours(case.open),
                actual,
                hours(actual)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn hours(ms: u64) -> f64 {
    ms as f64 / H as f64
}
