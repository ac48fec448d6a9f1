import Holidays from "date-holidays";
import { describe, expect, it } from "vitest";
import { holidayCodes, holidaysOf, mainTimeZoneOf, readHolidayData } from "./holidays.js";

// date-holidays itself (every country in the process) is the reference the kept entries must match.
const everything = new Holidays();
const years = [2025, 2026, 2027, 2028, 2029];

describe("holidays of the countries kept", () => {
  it("gives the same days and names as date-holidays, states and borrowed days included", () => {
    // GP and BL borrow France's days, GG Great Britain's, ES.CN the Canary Islands' (IC).
    const places = [
      ["NL"],
      ["IE"],
      ["BE"],
      ["US"],
      ["US", "CA"],
      ["NZ"],
      ["CL"],
      ["DE", "BY"],
      ["ES", "CN"],
      ["GP"],
      ["BL"],
      ["GG"],
      ["MA"],
    ] as const;
    for (const [country, state] of places) {
      const reference = state ? new Holidays(country, state) : new Holidays(country);
      for (const year of years)
        expect(
          holidaysOf(country, state).getHolidays(year, "en"),
          `${country} ${state ?? ""} ${year}`,
        ).toEqual(reference.getHolidays(year, "en"));
    }
  });

  it("gives every country's main time zone as date-holidays does", () => {
    for (const country of [...Object.keys(everything.getCountries("en")), "XX", "ZZ"])
      expect(mainTimeZoneOf(country) ?? "UTC", country).toBe(
        new Holidays(country).getTimezones()?.[0] ?? "UTC",
      );
  });

  it("knows the same country and state codes as date-holidays", () => {
    const codes = holidayCodes(readHolidayData());
    expect(codes.countries).toEqual(everything.getCountries("en"));
    for (const country of ["US", "DE", "CH", "NL", "XX"])
      expect(codes.statesOf(country), country).toEqual(everything.getStates(country, "en"));
  });
});
