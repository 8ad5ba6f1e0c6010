//! When a tenant's daily export is due.
//!
//! One EventBridge schedule ticks for every tenant (every 15 minutes by default, see
//! `infra/template.yaml`); each tenant's settings say at what local time of day, in which IANA
//! time zone, its export starts (`schedules.dailyExport`). On each tick a tenant is due when
//! its local time has reached today's start time and no scheduled run has been claimed for that
//! local date yet: a late or missed tick still runs the day's export (once), a repeated tick
//! never runs it twice (the caller claims the date, see [`ScheduledDay::claim_key`]).
//!
//! Local times that do not exist or exist twice (daylight saving changes) are resolved as most
//! schedulers do: a time in a gap starts at the first instant after the gap, a time in a fold at
//! the first of its two instants. The time zone database is bundled with the binary, so a
//! Lambda image without one computes the same answers as a laptop.

use cwsync_mapping::settings::DailyExportSchedule;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// How long after its start time a day's export is still started by a tick that falls on the
/// next local date: longer than the schedule's tick (15 minutes), so every start time is caught.
pub const CATCH_UP: jiff::SignedDuration = jiff::SignedDuration::from_mins(30);

/// Why a schedule can't be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The time zone name is not in the time zone database.
    #[error("schedules.dailyExport.timeZone: {zone:?} is not a known IANA time zone")]
    UnknownTimeZone {
        /// The name.
        zone: String,
    },
    /// The instant is outside the range the calendar arithmetic supports.
    #[error("schedules.dailyExport: {0}")]
    OutOfRange(String),
}

/// One local day's scheduled export of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledDay {
    /// The tenant's local date.
    pub date: Date,
    /// The instant the export of that date starts.
    pub starts_at: Timestamp,
}

impl ScheduledDay {
    /// The key under which the run of this day is claimed, so that one tick runs it, once.
    pub fn claim_key(&self) -> String {
        format!("scheduled-daily-export#{}", self.date)
    }
}

/// The tenant's schedule, its zone resolved.
#[derive(Debug, Clone)]
pub struct TenantSchedule {
    enabled: bool,
    time: Time,
    zone: TimeZone,
}

impl TenantSchedule {
    /// Resolves the settings' time zone.
    pub fn new(schedule: &DailyExportSchedule) -> Result<Self, ScheduleError> {
        let zone = TimeZone::get(schedule.time_zone.as_str()).map_err(|_| {
            ScheduleError::UnknownTimeZone {
                zone: schedule.time_zone.as_str().to_owned(),
            }
        })?;
        let time = Time::new(
            schedule.time.hour() as i8,
            schedule.time.minute() as i8,
            0,
            0,
        )
        .map_err(|e| ScheduleError::OutOfRange(e.to_string()))?;
        Ok(TenantSchedule {
            enabled: schedule.enabled,
            time,
            zone,
        })
    }

    /// The scheduled export of the local date that `now` falls on in the tenant's zone.
    pub fn day_of(&self, now: Timestamp) -> Result<ScheduledDay, ScheduleError> {
        let date = now.to_zoned(self.zone.clone()).date();
        self.on(date)
    }

    fn on(&self, date: Date) -> Result<ScheduledDay, ScheduleError> {
        // `to_zoned` resolves gaps and folds "compatibly": later after a gap, earlier in a fold.
        let starts_at = date
            .to_datetime(self.time)
            .to_zoned(self.zone.clone())
            .map_err(|e| ScheduleError::OutOfRange(e.to_string()))?
            .timestamp();
        Ok(ScheduledDay { date, starts_at })
    }

    /// The day whose export is due at `now`, when the tenant's schedule is on: today's, once
    /// its start time has passed; else yesterday's, when its start time passed less than
    /// [`CATCH_UP`] ago (a time late in the local day, 23:50, whose first tick falls on the next
    /// date). Not a day `last_claimed` (the local date of the last scheduled run) already has.
    pub fn due(
        &self,
        now: Timestamp,
        last_claimed: Option<Date>,
    ) -> Result<Option<ScheduledDay>, ScheduleError> {
        if !self.enabled {
            return Ok(None);
        }
        let unclaimed = |day: &ScheduledDay| last_claimed.is_none_or(|d| d < day.date);
        let today = self.day_of(now)?;
        if now >= today.starts_at {
            return Ok(unclaimed(&today).then_some(today));
        }
        let yesterday = today
            .date
            .yesterday()
            .map_err(|e| ScheduleError::OutOfRange(e.to_string()))
            .and_then(|date| self.on(date))?;
        let late = now >= yesterday.starts_at && now.duration_since(yesterday.starts_at) < CATCH_UP;
        Ok((late && unclaimed(&yesterday)).then_some(yesterday))
    }

    /// When the next scheduled export starts after `now` (none while the schedule is off), for
    /// the export log's "next scheduled run".
    pub fn next_after(&self, now: Timestamp) -> Result<Option<Zoned>, ScheduleError> {
        if !self.enabled {
            return Ok(None);
        }
        let today = self.day_of(now)?;
        let day = if today.starts_at > now {
            today
        } else {
            let tomorrow = today
                .date
                .tomorrow()
                .map_err(|e| ScheduleError::OutOfRange(e.to_string()))?;
            self.on(tomorrow)?
        };
        Ok(Some(day.starts_at.to_zoned(self.zone.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cwsync_mapping::settings::{DailyTime, TimeZoneName};

    fn schedule(time: &str, zone: &str) -> TenantSchedule {
        TenantSchedule::new(&DailyExportSchedule {
            enabled: true,
            time: DailyTime::parse(time).unwrap(),
            time_zone: TimeZoneName::parse(zone).unwrap(),
        })
        .unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn due_once_its_local_time_has_passed_and_not_again_that_day() {
        // 02:00 in New York is 07:00 UTC in winter.
        let s = schedule("02:00", "America/New_York");
        assert_eq!(s.due(at("2026-12-06T06:59:00Z"), None).unwrap(), None);
        let due = s.due(at("2026-12-06T07:00:00Z"), None).unwrap().unwrap();
        assert_eq!(due.date, jiff::civil::date(2026, 12, 6));
        assert_eq!(due.starts_at, at("2026-12-06T07:00:00Z"));
        // A late tick the same day still runs it, a repeated one after the claim does not.
        assert!(s.due(at("2026-12-06T20:00:00Z"), None).unwrap().is_some());
        assert_eq!(
            s.due(at("2026-12-06T20:00:00Z"), Some(due.date)).unwrap(),
            None
        );
        // The next local day is due again (at 07:00 UTC on the 7th, not at midnight UTC).
        assert_eq!(
            s.due(at("2026-12-07T03:00:00Z"), Some(due.date)).unwrap(),
            None
        );
        assert!(
            s.due(at("2026-12-07T07:00:00Z"), Some(due.date))
                .unwrap()
                .is_some()
        );
        assert_eq!(due.claim_key(), "scheduled-daily-export#2026-12-06");
    }

    #[test]
    fn a_start_time_late_in_the_day_is_caught_by_the_first_tick_of_the_next_date() {
        // 23:50 in New York is 04:50 UTC; the next quarter-hour tick is 05:00 UTC, 00:00 local.
        let s = schedule("23:50", "America/New_York");
        let due = s.due(at("2026-12-07T05:00:00Z"), None).unwrap().unwrap();
        assert_eq!(due.date, jiff::civil::date(2026, 12, 6));
        assert_eq!(
            s.due(at("2026-12-07T05:00:00Z"), Some(due.date)).unwrap(),
            None
        );
        // Long after, it waits for today's.
        assert_eq!(s.due(at("2026-12-07T06:00:00Z"), None).unwrap(), None);
    }

    #[test]
    fn the_local_date_is_the_tenants_not_utcs() {
        // 23:30 UTC on the 6th is already the 7th in Auckland (UTC+13 in December).
        let s = schedule("09:00", "Pacific/Auckland");
        let day = s.day_of(at("2026-12-06T23:30:00Z")).unwrap();
        assert_eq!(day.date, jiff::civil::date(2026, 12, 7));
        assert_eq!(day.starts_at, at("2026-12-06T20:00:00Z"));
    }

    #[test]
    fn a_start_time_in_the_spring_gap_runs_just_after_it_and_in_the_fold_at_the_first() {
        // 2027-03-14 in New York: 02:00–03:00 does not exist.
        let s = schedule("02:30", "America/New_York");
        let day = s.day_of(at("2027-03-14T12:00:00Z")).unwrap();
        assert_eq!(day.starts_at, at("2027-03-14T07:30:00Z"));
        // 2026-11-01: 01:30 happens twice; the first is 05:30 UTC (still EDT).
        let s = schedule("01:30", "America/New_York");
        let day = s.day_of(at("2026-11-01T12:00:00Z")).unwrap();
        assert_eq!(day.starts_at, at("2026-11-01T05:30:00Z"));
    }

    #[test]
    fn the_next_run_is_today_before_the_start_time_and_tomorrow_after_it() {
        let s = schedule("02:00", "Europe/Amsterdam");
        let next = s.next_after(at("2026-12-06T00:30:00Z")).unwrap().unwrap();
        assert_eq!(next.timestamp(), at("2026-12-06T01:00:00Z"));
        let next = s.next_after(at("2026-12-06T01:00:00Z")).unwrap().unwrap();
        assert_eq!(next.timestamp(), at("2026-12-07T01:00:00Z"));
    }

    #[test]
    fn an_unknown_zone_names_the_setting_and_a_disabled_schedule_is_never_due() {
        let error = TenantSchedule::new(&DailyExportSchedule {
            enabled: true,
            time: DailyTime::parse("02:00").unwrap(),
            time_zone: TimeZoneName::parse("Mars/Olympus_Mons").unwrap(),
        })
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "schedules.dailyExport.timeZone: \"Mars/Olympus_Mons\" is not a known IANA time zone"
        );
        let off = TenantSchedule::new(&DailyExportSchedule {
            enabled: false,
            ..DailyExportSchedule::default()
        })
        .unwrap();
        assert_eq!(off.due(at("2026-12-06T12:00:00Z"), None).unwrap(), None);
        assert_eq!(off.next_after(at("2026-12-06T12:00:00Z")).unwrap(), None);
    }
}
