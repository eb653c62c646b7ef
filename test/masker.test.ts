import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { MultiMatcher, sortPatterns } from "../redaction/matcher.js";
import { secretForms } from "../redaction/encodings.js";
import { createStreamMasker, SecretMasker } from "../redaction/masker.js";

const SECRET = "sk-live-Zx9Qw7Lm2Np4";

/** Every occurrence of every pattern, the slow obvious way. */
function naive(text: string, patterns: string[]): string[] {
  const out = new Set<string>();
  for (const p of patterns) for (let i = text.indexOf(p); i >= 0; i = text.indexOf(p, i + 1)) out.add(`${i}-${i + p.length}`);
  return [...out].sort();
}

function found(m: MultiMatcher, text: string): string[] {
  const out = new Set<string>();
  m.find(text, 0, text.length, (s, e) => out.add(`${s}-${e}`));
  return [...out].sort();
}

describe("the multi-pattern matcher (Wu–Manber)", () => {
  it("finds every occurrence, like a naive search", () => {
    const patterns = ["hehe", "shes", "hiss", "hers", "ushers", "aaaa", "aaaaa", "abab"];
    for (const text of ["ushers", "ahishers", "aaaaaaaa", "she sells sea shells hers", "hehehehe", "abababab", ""]) {
      expect(found(new MultiMatcher(patterns), text), text).toEqual(naive(text, patterns));
    }
  });

  it("agrees with a naive search on random input, short and long patterns mixed", () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const word = (n: number) => Array.from({ length: n }, () => "abc"[rand(3)]).join("");
    for (let round = 0; round < 300; round++) {
      const patterns = Array.from({ length: 1 + rand(6) }, () => word(4 + rand(8)));
      const text = word(200);
      expect(found(new MultiMatcher(patterns), text)).toEqual(naive(text, patterns));
    }
  });

  it("holdFrom: the longest suffix that begins a pattern; none after a character no pattern has", () => {
    const m = new MultiMatcher(["secret-one", "sec-two"]);
    expect(m.holdFrom("log: secre")).toBe(5);
    expect(m.holdFrom("log: se")).toBe(5);
    expect(m.holdFrom("log: sx")).toBe(7);
    expect(m.holdFrom("log: secret-one done\n")).toBe(21);
  });
});

describe("masking output", () => {
  const masker = new SecretMasker([SECRET, "multi-line-one\nmulti-line-two", "ab", "péché-naïf-ü"]);

  it.each([
    ["the value", SECRET],
    ["base64", Buffer.from(SECRET).toString("base64")],
    ["base64 at offset 1", Buffer.from(`x${SECRET}`).toString("base64")],
    ["base64 at offset 2", Buffer.from(`xy${SECRET}y`).toString("base64")],
    ["base64url", Buffer.from(`?>${SECRET}`).toString("base64url")],
    ["URL-encoded", encodeURIComponent(`${SECRET}/?&`)],
    ["JSON-escaped", JSON.stringify({ v: `"${SECRET}"` })],
    ["a line of a multi-line value", "log: multi-line-two\n"],
    ["a unicode value", "value=péché-naïf-ü;"],
    ["a unicode value, URL-encoded", encodeURIComponent("péché-naïf-ü")],
  ])("masks %s", (_name, text) => {
    const out = masker.mask(`before ${text} after`).text;
    expect(out).toContain("***");
    for (const form of [SECRET, "multi-line-two", "péché-naïf-ü", ...secretForms(SECRET)]) expect(out).not.toContain(form);
    expect(out.startsWith("before ")).toBe(true);
  });

  it("leaves values under 4 characters alone", () => {
    expect(masker.mask("abc ab cab").text).toBe("abc ab cab");
  });

  it("masks overlapping secrets and a secret that is a prefix of another as one span", () => {
    const m = new SecretMasker(["abcdef", "defghi", "abcd"]);
    expect(m.mask("xx abcdefghi yy abcd zz").text).toBe("xx *** yy *** zz");
  });

  it("never emits a prefix of a secret at a chunk boundary (1-character chunks)", () => {
    const stream = createStreamMasker(() => masker);
    const text = `start ${SECRET} mid ${Buffer.from(SECRET).toString("base64")} end ${SECRET.slice(0, 5)}`;
    let emitted = "";
    for (const ch of text) {
      emitted += stream.write(ch);
      expect(emitted).not.toContain(SECRET.slice(0, 12));
    }
    emitted += stream.flush();
    expect(emitted).toBe(`start *** mid *** end ${SECRET.slice(0, 5)}`);
  });

  it("streams a match that swallows earlier ones without leaking its head", () => {
    const m = new SecretMasker(["abcdef", "efgh"]);
    const stream = createStreamMasker(() => m);
    const out = stream.write("xxabcdef") + stream.write("gh yy") + stream.flush();
    expect(out).toBe("xx*** yy");
  });

  it("flush() releases held text when no secret completes", () => {
    const stream = createStreamMasker(() => masker);
    expect(stream.write(`x ${SECRET.slice(0, 8)}`)).toBe("x ");
    expect(stream.flush()).toBe(SECRET.slice(0, 8));
  });

  it("an empty secret set passes text through", () => {
    expect(new SecretMasker([]).mask("anything").text).toBe("anything");
  });
});

describe("the forms cells really print (each was missed before)", () => {
  const tricky = 'pa"ss\\word-Zq8!x y(z)~\'9';
  const unicode = "mot-de-passe-é-ü-✓-9Zq";
  const long = "Zx9Qw7Lm2Np4-a-long-api-secret-value-that-spans-several-base64-lines-when-wrapped-8c1f";
  const m = new SecretMasker([SECRET, tricky, unicode, long]);
  const hidden = (text: string) => {
    const out = m.mask(text).text;
    expect(out, text).toContain("***");
    for (const v of [SECRET, tricky, unicode, long]) for (const f of secretForms(v).filter((f) => f.length >= 12)) expect(out, `${text} -> ${out}`).not.toContain(f);
    return out;
  };

  it.each([
    ["hex, lower case", Buffer.from(SECRET).toString("hex")],
    ["hex, upper case", Buffer.from(SECRET).toString("hex").toUpperCase()],
    ["util.inspect of a value with \" and \\", inspect({ pw: tricky })],
    ["console.log-style of it in an array", inspect([tricky])],
    ["URLSearchParams (space as +, !'()~ encoded)", new URLSearchParams({ pw: tricky }).toString()],
    ["encodeURI", encodeURI(`https://x.test/${tricky}`)],
    ["\\uXXXX escapes (Python json.dumps)", '{"pw": "mot-de-passe-\\u00e9-\\u00fc-\\u2713-9Zq"}'],
    ["\\uXXXX escapes, upper case", "mot-de-passe-\\u00E9-\\u00FC-\\u2713-9Zq"],
  ])("%s", (_name, text) => {
    hidden(`before ${text} after`);
  });

  it.each([76, 64])("base64 wrapped at %i columns (MIME, base64, PEM), whole and inside a blob", (width) => {
    const wrap = (b64: string) => b64.match(new RegExp(`.{1,${width}}`, "g"))!.join("\n");
    const alone = wrap(Buffer.from(long).toString("base64"));
    expect(hidden(`-----BEGIN DATA-----\n${alone}\n-----END DATA-----`)).toMatch(/^-----BEGIN DATA-----\n[\s\S]*\*\*\*[\s\S]*-----END DATA-----$/);
    const blob = wrap(Buffer.from(`prefix-bytes-${"x".repeat(57)}${long}${"y".repeat(90)}`).toString("base64"));
    hidden(`${blob}\n`);
    hidden(blob.replace(/\n/g, "\r\n"));
  });

  it("wrapped base64 is masked in a stream cut at every position", () => {
    const blob = Buffer.from(`${"q".repeat(40)}${long}${"r".repeat(40)}`).toString("base64").match(/.{1,76}/g)!.join("\n") + "\n";
    for (let cut = 1; cut < blob.length; cut += 7) {
      const stream = createStreamMasker(() => m);
      const out = stream.write(blob.slice(0, cut)) + stream.write(blob.slice(cut)) + stream.flush();
      expect(out, `cut at ${cut}`).toContain("***");
      for (const f of secretForms(long).filter((f) => f.length >= 12)) expect(out.replace(/\n/g, "")).not.toContain(f.slice(0, 40));
    }
  });

  it("ordinary text and base64 that holds no secret are left alone, line breaks included", () => {
    const plain = Buffer.from("nothing secret here ".repeat(30)).toString("base64").match(/.{1,76}/g)!.join("\n");
    expect(m.mask(plain).text).toBe(plain);
    const stream = createStreamMasker(() => m);
    expect(stream.write("Loading") + stream.write("...") + stream.write(" done\n")).toBe("Loading... done\n");
  });
});

describe("building the matcher", () => {
  it("repeated patterns are dropped at build; holdFrom agrees with a naive prefix check", () => {
    let seed = 5;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const alphabet = ["a", "b", "%", "E", "4", "\u4e00", "\u00e9"];
    const word = (len: number) => Array.from({ length: len }, () => alphabet[rand(alphabet.length)]!).join("");
    const patterns = Array.from({ length: 300 }, () => word(4 + rand(12)));
    const m = new MultiMatcher([...patterns, ...patterns.slice(0, 100)]);
    const text = word(3000);
    expect(found(m, text)).toEqual(naive(text, patterns));
    for (let i = 0; i < 200; i++) {
      const tail = word(1 + rand(20));
      let expected = tail.length;
      for (let j = Math.max(0, tail.length - m.maxLength + 1); j < tail.length; j++) {
        if (patterns.some((p) => p.startsWith(tail.slice(j)))) {
          expected = j;
          break;
        }
      }
      expect(m.holdFrom(tail), tail).toBe(expected);
    }
  });

  it("sorts patterns exactly as Array.prototype.sort, long shared prefixes and patterns that are prefixes of others included", () => {
    let seed = 9;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const units = ["%", "E", "4", "B", "8", "a", "\u4e00", "\uffff", "\ud83d", "\ude00", "\u0000"];
    const set = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const prefix = ["%E4%B8%", "\\u4e", "", "e4b8"][rand(4)]!;
      set.add(prefix + Array.from({ length: 1 + rand(12) }, () => units[rand(units.length)]!).join(""));
    }
    const patterns = [...set];
    expect(sortPatterns([...patterns])).toEqual([...patterns].sort());
  });

  it("a value with a lone surrogate builds and is masked (encodeURIComponent refuses it; the build threw URIError)", () => {
    const lone = "api-\ud800-key-Zq81-value";
    const masker = new SecretMasker([lone, SECRET]);
    expect(masker.mask(`a ${lone} b ${SECRET}`).text).toBe("a *** b ***");
    expect(masker.mask(new URLSearchParams({ k: lone }).toString()).text).toBe("k=***");
  });

  it("a rebuild reusing the previous masker's forms masks exactly as a fresh build", () => {
    const values = Array.from({ length: 50 }, (_, i) => `secret-value-${i}-Zq${i * 7919}-é`);
    const first = new SecretMasker(values);
    const rotated = [...values.slice(1), "rotated-value-Xy42-✓"];
    const reused = new SecretMasker(rotated, { previous: first });
    const fresh = new SecretMasker(rotated);
    const text = [...values, "rotated-value-Xy42-✓", Buffer.from(values[7]!).toString("base64"), encodeURIComponent("rotated-value-Xy42-✓")].join(" | ");
    expect(reused.mask(text).text).toBe(fresh.mask(text).text);
    expect(reused.mask(values[0]!).text).toBe(values[0]); // gone from the set: no longer masked
  });

  it("1,000 secrets of many distinct Unicode characters fit in 50 MB and are found", () => {
    let seed = 11;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const secrets = Array.from({ length: 1000 }, () => Array.from({ length: 16 + rand(48) }, () => String.fromCharCode(0x4e00 + rand(20_000))).join(""));
    const m = new MultiMatcher(secrets.flatMap((s) => secretForms(s)));
    expect(m.bytes).toBeLessThan(50 * 1024 * 1024);
    const probe = secrets[500]!;
    expect(found(m, `x ${probe} y`)).toContain(`2-${2 + probe.length}`);
  });
});
