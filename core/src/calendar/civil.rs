//! Day numbers for local dates.
//!
//! The arithmetic walks local dates one at a time; plain day numbers (days since
//! 1970-01-01, proleptic Gregorian) make "next day" and "same weekday" integer steps instead
//! of calendar-library calls.

/// Seconds in a civil day (local dates are counted in wall-clock days).
pub(super) const DAY_SECONDS: i64 = 86_400;

/// Day number of a proleptic Gregorian date (1970-01-01 is day 0).
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Counting years from March puts the leap day at the end of the year, which keeps the
    // day-of-year formula free of leap-year branches.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `(year, month, day)` of a day number.
pub(super) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Weekday of a day number, Monday = 0 (1970-01-01 was a Thursday).
pub(super) fn weekday_index(days: i64) -> usize {
    // rem_euclid(7) is in 0..7, so the conversion cannot fail.
    usize::try_from((days + 3).rem_euclid(7)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::Date;

    #[test]
    fn day_numbers_agree_with_jiff_across_centuries_and_leap_days() {
        let epoch = Date::constant(1970, 1, 1);
        let mut date = Date::constant(1, 1, 1);
        let end = Date::constant(9999, 12, 31);
        let mut expected = days_from_civil(1, 1, 1);
        while date <= end {
            let days = days_from_civil(
                i64::from(date.year()),
                i64::from(date.month()),
                i64::from(date.day()),
            );
            assert_eq!(days, expected, "{date}");
            assert_eq!(
                civil_from_days(days),
                (
                    i64::from(date.year()),
                    i64::from(date.month()),
                    i64::from(date.day())
                ),
                "{date}"
            );
            let weekday = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap();
            assert_eq!(weekday_index(days), weekday, "{date}");
            expected += 1;
            // Every day for the years that matter, then a sparser sample to the end.
            date = if date.year() < 1900 || date.year() > 2200 {
                match date.checked_add(jiff::Span::new().days(97)) {
                    Ok(next) => {
                        expected += 96;
                        next
                    }
                    Err(_) => break,
                }
            } else {
                date.tomorrow().unwrap()
            };
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            epoch.since(Date::constant(1, 1, 1)).unwrap().get_days(),
            i32::try_from(-days_from_civil(1, 1, 1)).unwrap()
        );
    }
}
