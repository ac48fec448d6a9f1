import { describe, expect, it } from "vitest";
import { maskPhone } from "../accounts/model.js";
import { ConfigError, loadConfig } from "../config.js";
import { typedPhoneForDisplay } from "./model.js";

describe("a typed phone number as the pages show it", () => {
  it("reads a national number in the deployment's country, and 00 as +", () => {
    expect(typedPhoneForDisplay("0470 12 34 56", "BE")).toBe("+32470123456");
    expect(typedPhoneForDisplay("0032 470 12 34 56", null)).toBe("+32470123456");
    expect(typedPhoneForDisplay("+32 470 12 34 56", "FR")).toBe("+32470123456");
    expect(maskPhone(typedPhoneForDisplay("0470 12 34 56", "BE"))).toBe("+32 4•• •• •• 56");
  });

  it("keeps the digits as typed when no country can be known", () => {
    expect(typedPhoneForDisplay("0470 12 34 56", null)).toBe("0470123456");
    expect(maskPhone(typedPhoneForDisplay("0470 12 34 56", null))).toBe("0•••••••56");
  });

  it("takes SESAME_DEFAULT_COUNTRY as a known two-letter country, or stops the boot", () => {
    expect(loadConfig({ SESAME_DEFAULT_COUNTRY: "be" }).defaultCountry).toBe("BE");
    expect(loadConfig({}).defaultCountry).toBeNull();
    for (const wrong of ["BEL", "XX", "1"])
      expect(() => loadConfig({ SESAME_DEFAULT_COUNTRY: wrong }), wrong).toThrow(ConfigError);
  });
});
