//! Calendar dates from Unix seconds without a date crate: report stamps,
//! certificate validity and RRSIG windows all print UTC the same way.

/// A moment in UTC, broken into the fields people read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// Year (proleptic Gregorian).
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Seconds into the day, 0–86399.
    pub secs_of_day: u32,
}

impl Utc {
    /// Splits seconds since 1970-01-01T00:00:00Z (negative is before).
    pub fn from_unix(secs: i64) -> Self {
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        Utc {
            year,
            month,
            day,
            secs_of_day: secs.rem_euclid(86_400) as u32,
        }
    }

    /// `2026-12-01T16:51:53Z`: RFC 3339, what JSON carries.
    pub fn rfc3339(&self) -> String {
        format!("{}T{}Z", self.date(), self.clock())
    }

    /// `2026-12-01 16:51:53 UTC`: the same for a person.
    pub fn human(&self) -> String {
        format!("{} {} UTC", self.date(), self.clock())
    }

    fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    fn clock(&self) -> String {
        let s = self.secs_of_day;
        format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
    }
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::Utc;

    #[test]
    fn known_dates() {
        assert_eq!(Utc::from_unix(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Utc::from_unix(951_782_400).human(),
            "2000-02-29 00:00:00 UTC"
        );
        assert_eq!(Utc::from_unix(-1).rfc3339(), "1969-12-31T23:59:59Z");
        assert_eq!(
            Utc::from_unix(4_102_444_800).rfc3339(),
            "2100-01-01T00:00:00Z"
        );
    }
}
