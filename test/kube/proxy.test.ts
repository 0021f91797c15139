/**
 * The proxy decision against Go's own test vectors: golang.org/x/net
 * http/httpproxy/proxy_test.go (proxyForURLTests, UseProxyTests, TestInvalidNoProxy,
 * TestAllNoProxy), and clientcmd's parseProxyURL for a kubeconfig's proxy-url.
 */
import t from 'tap';
import { ipBytes, parseProxyUrl, proxyFor, redactProxy, useProxy } from '../../src/kube/proxy.js';

type Cfg = Partial<Record<'HTTP_PROXY' | 'HTTPS_PROXY' | 'NO_PROXY' | 'REQUEST_METHOD' | 'https_proxy' | 'no_proxy', string>>;
const decide = (cfg: Cfg, req = 'http://example.com'): string => String(proxyFor(new URL(req), undefined, cfg)?.href.replace(/\/$/, '') ?? '<nil>');

void t.test('proxyForURLTests: which variable, and values with no scheme read as http://', (t) => {
  const vectors: [Cfg, string | undefined, string][] = [
    [{ HTTP_PROXY: '127.0.0.1:8080' }, undefined, 'http://127.0.0.1:8080'],
    [{ HTTP_PROXY: 'cache.corp.example.com:1234' }, undefined, 'http://cache.corp.example.com:1234'],
    [{ HTTP_PROXY: 'cache.corp.example.com' }, undefined, 'http://cache.corp.example.com'],
    [{ HTTP_PROXY: 'localhost' }, undefined, 'http://localhost'],
    [{ HTTP_PROXY: 'https://cache.corp.example.com' }, undefined, 'https://cache.corp.example.com'],
    [{ HTTP_PROXY: 'http://127.0.0.1:8080' }, undefined, 'http://127.0.0.1:8080'],
    [{ HTTP_PROXY: 'https://127.0.0.1:8080' }, undefined, 'https://127.0.0.1:8080'],
    [{ HTTP_PROXY: 'socks5://127.0.0.1' }, undefined, 'socks5://127.0.0.1'],
    [{ HTTP_PROXY: 'http.proxy.tld', HTTPS_PROXY: 'secure.proxy.tld' }, 'http://insecure.tld/', 'http://http.proxy.tld'],
    [{ HTTP_PROXY: 'http.proxy.tld', HTTPS_PROXY: 'secure.proxy.tld' }, 'https://secure.tld/', 'http://secure.proxy.tld'],
    [{ HTTP_PROXY: 'http.proxy.tld', HTTPS_PROXY: 'https://secure.proxy.tld' }, 'https://secure.tld/', 'https://secure.proxy.tld'],
    [{ HTTP_PROXY: 'http.proxy.tld' }, 'https://secure.tld/', '<nil>'],
    [{ HTTP_PROXY: 'http.proxy.tld' }, 'ftp://insecure.tld/', '<nil>'],
    [{ HTTPS_PROXY: 'https://secure.proxy.tld', REQUEST_METHOD: 'GET' }, 'https://secure.tld/', 'https://secure.proxy.tld'],
    [{}, undefined, '<nil>'],
    [{ NO_PROXY: 'example.com', HTTP_PROXY: 'proxy' }, 'http://example.com/', '<nil>'],
    [{ NO_PROXY: '.example.com', HTTP_PROXY: 'proxy' }, 'http://example.com/', 'http://proxy'],
    [{ NO_PROXY: 'ample.com', HTTP_PROXY: 'proxy' }, 'http://example.com/', 'http://proxy'],
    [{ NO_PROXY: 'example.com', HTTP_PROXY: 'proxy' }, 'http://foo.example.com/', '<nil>'],
    [{ NO_PROXY: '.foo.com', HTTP_PROXY: 'proxy' }, 'http://example.com/', 'http://proxy'],
    [{ NO_PROXY: '.示例.com', HTTP_PROXY: 'proxy' }, 'http://www.示例.com', '<nil>'],
    [{ NO_PROXY: 'xn--fsq092h.com', HTTP_PROXY: 'proxy' }, 'http://www.示例.com', '<nil>'],
    [{ NO_PROXY: '示例.com', HTTP_PROXY: 'proxy' }, 'http://www.xn--fsq092h.com', '<nil>'],
    // Go's last vector, http://[1000::%25.example.com]:123, is not a URL Node parses: the server is never such a URL.
  ];
  for (const [cfg, req, want] of vectors) t.equal(decide(cfg, req), want, `${JSON.stringify(cfg)} ${req ?? 'http://example.com'}`);
  t.end();
});

void t.test('the lower-case variables count when the upper-case ones are unset or empty', (t) => {
  t.equal(decide({ https_proxy: 'lower:1', NO_PROXY: '' }, 'https://api.example:6443'), 'http://lower:1');
  t.equal(decide({ HTTPS_PROXY: '', https_proxy: 'lower:1', no_proxy: 'api.example' }, 'https://api.example:6443'), '<nil>');
  t.equal(decide({ HTTPS_PROXY: 'upper:1', https_proxy: 'lower:1' }, 'https://api.example:6443'), 'http://upper:1', 'upper-case first');
  t.end();
});

void t.test('what Go would fail on at each request, or skip, is refused at start naming the variable', (t) => {
  t.throws(() => decide({ HTTP_PROXY: 'http://10.1.2.3:8080', REQUEST_METHOD: 'GET' }), /HTTP_PROXY cannot be used when REQUEST_METHOD is set/, 'CGI');
  t.throws(() => decide({ HTTPS_PROXY: 'foo://host' }, 'https://api.example'), { code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT', message: /the environment variable HTTPS_PROXY is "foo:\/\/host", whose scheme "foo" is not http, https or socks5/ });
  t.throws(() => decide({ HTTPS_PROXY: 'proxy:port' }, 'https://api.example'), /HTTPS_PROXY is "proxy:port", which is not a URL/);
  t.end();
});

// TestUseProxy: each host with port 80 against one NO_PROXY list.
const noProxy = 'foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64';
const useProxyTests: [string, boolean][] = [
  ['localhost', false], ['127.0.0.1', false], ['127.0.0.2', false], ['[::1]', false], ['[::2]', true],
  ['192.168.1.1', false], ['192.168.1.2', true], ['192.168.1.3', false], ['192.168.1.4', true], ['10.0.0.2', false],
  ['[2001:db8::52:0:1]', false], ['[2001:db8::52:0:2]', true], ['[2001:db8::52:0:3]', false], ['[2002:db8:a::123]', false], ['[fe80::424b:c8be:1643:a1b6]', true],
  ['barbaz.net', true], ['www.barbaz.net', false], ['foobar.com', false], ['www.foobar.com', false], ['foofoobar.com', true], ['baz.com', true],
  ['localhost.net', true], ['local.localhost', true], ['barbarbaz.net', true], ['wildcard.io', true], ['nested.wildcard.io', false], ['awildcard.io', true],
];
const bare = (h: string): string => h.replace(/^\[(.*)\]$/, '$1');

void t.test('UseProxyTests: hosts, domains, IPs, CIDRs and ports in NO_PROXY; loopback never proxied', (t) => {
  for (const [host, want] of useProxyTests) t.equal(useProxy(noProxy, bare(host), '80'), want, host);
  t.end();
});

void t.test('TestAllNoProxy and TestInvalidNoProxy: "*" matches everything, ":1" nothing', (t) => {
  for (const [host] of useProxyTests) t.equal(useProxy('*', bare(host), '80'), false, host);
  t.equal(useProxy(':1', 'example.com', '80'), true);
  t.end();
});

void t.test('IPv4-mapped IPv6 addresses are their IPv4 address, as Go\'s To4 makes them', (t) => {
  t.same(ipBytes('::ffff:10.0.0.1'), [10, 0, 0, 1]);
  t.equal(useProxy('10.0.0.0/8', '::ffff:10.1.2.3', '443'), false, 'in an IPv4 CIDR');
  t.equal(useProxy('', '::ffff:127.0.0.1', '443'), false, 'mapped loopback');
  t.equal(ipBytes('fe80::1%eth0'), undefined, 'a zone is not an IP');
  t.end();
});

void t.test('a kubeconfig proxy-url: http, https or socks5, as clientcmd parseProxyURL allows', (t) => {
  const where = 'the kubeconfig k: the cluster\'s proxy-url';
  t.equal(parseProxyUrl('http://user:pw@proxy.corp:3128', where).host, 'proxy.corp:3128');
  t.equal(parseProxyUrl('https://proxy.corp', where).protocol, 'https:');
  t.throws(() => parseProxyUrl('proxy.corp:3128', where), /the kubeconfig k: the cluster's proxy-url is "proxy\.corp:3128", whose scheme "proxy\.corp" is not http, https or socks5/);
  t.throws(() => parseProxyUrl('not a url', where), /proxy-url is "not a url", which is not a URL/);
  t.equal(parseProxyUrl('socks5://proxy.corp', where).protocol, 'socks5:');
  t.throws(() => parseProxyUrl(3128, where), /proxy-url must be a string, not 3128/);
  t.equal(proxyFor(new URL('https://10.0.0.1'), parseProxyUrl('http://p:1', where), { NO_PROXY: '*' })?.host, 'p:1', 'NO_PROXY does not apply to proxy-url');
  t.end();
});

void t.test('a proxy\'s password never reaches a start-up error: user:xxxxx@, as Go\'s url.Redacted writes it', (t) => {
  const where = 'the kubeconfig k: the cluster\'s proxy-url';
  const secret = 's3cr3t';
  // The scheme refused, from the environment and from a kubeconfig.
  t.throws(() => decide({ HTTPS_PROXY: `socks5h://user:${secret}@proxy.corp:1080` }, 'https://api.example'),
    { code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT', message: 'the environment variable HTTPS_PROXY is "socks5h://user:xxxxx@proxy.corp:1080", whose scheme "socks5h" is not http, https or socks5' });
  t.throws(() => parseProxyUrl(`socks5h://user:${secret}@proxy.corp:1080`, where),
    { message: 'the kubeconfig k: the cluster\'s proxy-url is "socks5h://user:xxxxx@proxy.corp:1080", whose scheme "socks5h" is not http, https or socks5' });
  // Not a URL at all (a port that is not a number), from both places.
  t.throws(() => decide({ HTTPS_PROXY: `user:${secret}@proxy.corp:port` }, 'https://api.example'),
    { message: 'the environment variable HTTPS_PROXY is "user:xxxxx@proxy.corp:port", which is not a URL' });
  t.throws(() => parseProxyUrl(`http://user:${secret}@proxy.corp:port`, where),
    { message: 'the kubeconfig k: the cluster\'s proxy-url is "http://user:xxxxx@proxy.corp:port", which is not a URL' });
  t.end();
});

void t.test('redactProxy hides what Go\'s Redacted hides, and more only when the value is ambiguous', (t) => {
  const cases: [string, string][] = [
    ['http://user:pass@host:3128', 'http://user:xxxxx@host:3128'],
    ['http://user@host', 'http://user@host'], // no password: Go leaves the user
    ['http://host:3128', 'http://host:3128'],
    ['foo://host', 'foo://host'],
    ['user:pass@host', 'user:xxxxx@host'], // no scheme, as the environment may give it
    ['http://user:p@ss:w@rd@host', 'http://user:xxxxx@host'], // "@" in the password: up to the last one
    ['http://us er:pa ss@host', 'http://us er:xxxxx@host'], // not a URL: redacted all the same
    ['http://user:pass@host/a@b', 'http://user:xxxxx@b'], // an "@" in a path hides more, never less
  ];
  for (const [value, want] of cases) t.equal(redactProxy(value), want, value);
  t.end();
});
