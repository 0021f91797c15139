/**
 * The Go decoder's errors devapi reproduces: time.Parse's messages for the layouts of
 * metav1.Time and MicroTime (expected values printed by Go 1.19's time.Parse for each
 * input), and the type and strict errors of sigs.k8s.io/json on a small struct.
 */
import t from 'tap';
import { decodeGo, goTimeParseError, jsonTree, RFC3339, RFC3339_MICRO, type GoType } from '../../../devapi/go/json-decode.js';

const goTimeParse: readonly [ 'seconds' | 'micro', string, string | undefined ][] = [
  ['seconds', "2026-01-02T03:04:05Z", undefined],
  ['seconds', "2026-01-02T03:04:05.123Z", undefined],
  ['seconds', "2026-01-02T03:04:05.123456Z", undefined],
  ['seconds', "yesterday", "parsing time \"yesterday\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"yesterday\" as \"2006\""],
  ['seconds', "", "parsing time \"\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"2006\""],
  ['seconds', "2026-13-02T03:04:05Z", "parsing time \"2026-13-02T03:04:05Z\": month out of range"],
  ['seconds', "2026-02-30T03:04:05Z", "parsing time \"2026-02-30T03:04:05Z\": day out of range"],
  ['seconds', "2026-01-02 03:04:05Z", "parsing time \"2026-01-02 03:04:05Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \" 03:04:05Z\" as \"T\""],
  ['seconds', "2026-01-02T24:04:05Z", "parsing time \"2026-01-02T24:04:05Z\": hour out of range"],
  ['seconds', "2026-01-02T03:04:05+0100", "parsing time \"2026-01-02T03:04:05+0100\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"+0100\" as \"Z07:00\""],
  ['seconds', "2026-01-02T03:04:05.123456+01:00", undefined],
  ['seconds', "2026-01-02T03:04:05Zjunk", "parsing time \"2026-01-02T03:04:05Zjunk\": extra text: \"junk\""],
  ['seconds', "2026-1-02T03:04:05Z", "parsing time \"2026-1-02T03:04:05Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"1-02T03:04:05Z\" as \"01\""],
  ['seconds', "2026-01-02T3:04:05Z", undefined],
  ['seconds', "2026-01-02T03:04:05,123456Z", undefined],
  ['seconds', "2026-01-02T03:04:05.1234567Z", undefined],
  ['micro', "2026-01-02T03:04:05Z", "parsing time \"2026-01-02T03:04:05Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as \".000000\""],
  ['micro', "2026-01-02T03:04:05.123Z", "parsing time \"2026-01-02T03:04:05.123Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \".123Z\" as \".000000\""],
  ['micro', "2026-01-02T03:04:05.123456Z", undefined],
  ['micro', "yesterday", "parsing time \"yesterday\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"yesterday\" as \"2006\""],
  ['micro', "", "parsing time \"\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"\" as \"2006\""],
  ['micro', "2026-13-02T03:04:05Z", "parsing time \"2026-13-02T03:04:05Z\": month out of range"],
  ['micro', "2026-02-30T03:04:05Z", "parsing time \"2026-02-30T03:04:05Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as \".000000\""],
  ['micro', "2026-01-02 03:04:05Z", "parsing time \"2026-01-02 03:04:05Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \" 03:04:05Z\" as \"T\""],
  ['micro', "2026-01-02T24:04:05Z", "parsing time \"2026-01-02T24:04:05Z\": hour out of range"],
  ['micro', "2026-01-02T03:04:05+0100", "parsing time \"2026-01-02T03:04:05+0100\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"+0100\" as \".000000\""],
  ['micro', "2026-01-02T03:04:05.123456+01:00", undefined],
  ['micro', "2026-01-02T03:04:05Zjunk", "parsing time \"2026-01-02T03:04:05Zjunk\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Zjunk\" as \".000000\""],
  ['micro', "2026-1-02T03:04:05Z", "parsing time \"2026-1-02T03:04:05Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"1-02T03:04:05Z\" as \"01\""],
  ['micro', "2026-01-02T3:04:05Z", "parsing time \"2026-01-02T3:04:05Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as \".000000\""],
  ['micro', "2026-01-02T03:04:05,123456Z", undefined],
  ['micro', "2026-01-02T03:04:05.1234567Z", "parsing time \"2026-01-02T03:04:05.1234567Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"7Z\" as \"Z07:00\""],
];

void t.test('time.Parse errors, as Go prints them', (t) => {
  for (const [layout, input, expected] of goTimeParse) {
    t.equal(goTimeParseError(input, layout === 'micro' ? RFC3339_MICRO : RFC3339), expected, `${layout} ${JSON.stringify(input)}`);
  }
  t.end();
});

const spec: GoType = { kind: 'struct', name: 'v1.ThingSpec', fields: { count: { kind: 'int', bits: 32 }, names: { kind: 'slice', of: { kind: 'string' } }, when: { kind: 'time', micro: true } } };
const thing: GoType = { kind: 'struct', name: 'v1.Thing', fields: { spec, labels: { kind: 'map', of: { kind: 'string' } }, data: { kind: 'bytes' } } };
const decode = (text: string, strict = true): ReturnType<typeof decodeGo> => decodeGo(jsonTree(text), thing, { strict });

void t.test('type errors: the first is kept, decoding goes on; a time error ends it at once', (t) => {
  t.same(decode('{"spec":{"count":"1","names":[1]}}'), { value: { spec: { names: [undefined] } }, error: 'json: cannot unmarshal string into Go struct field ThingSpec.spec.count of type int32', strict: [] });
  t.equal(decode('{"spec":{"count":2147483648}}').error, 'json: cannot unmarshal number 2147483648 into Go struct field ThingSpec.spec.count of type int32');
  t.equal(decode('{"spec":{"count":1.0}}').error, 'json: cannot unmarshal number 1.0 into Go struct field ThingSpec.spec.count of type int32', 'the number as written');
  t.equal(decode('{"labels":{"a":true}}').error, 'json: cannot unmarshal bool into Go struct field Thing.labels of type string');
  t.equal(decode('{"data":"!!"}').error, 'illegal base64 data at input byte 0');
  t.equal(decode('{"spec":[]}').error, 'json: cannot unmarshal array into Go struct field Thing.spec of type v1.ThingSpec');
  t.equal(decode('{"spec":{"count":"x","when":5}}').error, 'json: cannot unmarshal number into Go value of type string', 'the time error wins over the saved one');
  t.same(decode('{"spec":{"count":null,"when":null},"labels":null}'), { value: { spec: { count: null, when: null }, labels: null }, strict: [] }, 'null is no value');
  t.end();
});

void t.test('strict errors: unknown and repeated fields with their paths, reported only when nothing else failed', (t) => {
  t.same(decode('{"spec":{"count":1,"count":2,"other":{}},"labels":{"a":"1","a":"2"},"x":1}'), {
    value: { spec: { count: 2 }, labels: { a: '2' } },
    strict: ['duplicate field "spec.count"', 'unknown field "spec.other"', 'duplicate field "labels.a"', 'unknown field "x"'],
  });
  t.same(decode('{"x":1}', false), { value: {}, strict: [] }, 'not strict: dropped silently');
  t.same(decode('{"x":1,"spec":{"count":"1"}}').strict, [], 'a type error hides the strict ones');
  t.same(decodeGo(jsonTree('[{"a":1}]'), { kind: 'slice', of: { kind: 'struct', name: 'v1.A', fields: {} } }, { strict: true }).strict, ['unknown field "[0].a"']);
  t.end();
});
