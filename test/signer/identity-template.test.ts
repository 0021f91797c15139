/**
 * Identity templates: what parses, the sentence for what does not, and rendering from
 * spec values only (a value that looks like a placeholder is not expanded again).
 */
import t from 'tap';
import { identityTemplate, parseIdentityTemplate, renderIdentityTemplate, type TemplateValues } from '../../src/signer/identity-template.js';

const values: TemplateValues = {
  namespace: 'shop', serviceAccountName: 'web', podName: 'web-0', podUID: 'u-1', nodeName: 'worker-1', trustDomain: 'cluster.local',
};

void t.test('renders every placeholder', (t) => {
  const render = (text: string): string => renderIdentityTemplate(identityTemplate(text), values);
  t.equal(render('spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}'), 'spiffe://cluster.local/ns/shop/sa/web');
  t.equal(render('{serviceAccountName}.{namespace}.svc'), 'web.shop.svc');
  t.equal(render('{podName}/{podUID}@{nodeName}'), 'web-0/u-1@worker-1');
  t.equal(render('plain'), 'plain');
  t.equal(render(''), '');
  t.equal(renderIdentityTemplate(identityTemplate('{namespace}'), { ...values, namespace: '{podUID}' }), '{podUID}', 'values are not expanded again');
  t.end();
});

void t.test('refuses what is not a template, with one sentence', (t) => {
  const problem = (text: string): string | undefined => {
    const parsed = parseIdentityTemplate(text);
    return 'problem' in parsed ? parsed.problem : undefined;
  };
  t.match(problem('{namespce}.svc'), /^\{namespce\} is not a placeholder; use \{namespace\}, /);
  t.equal(problem('a{namespace'), 'the "{" at position 2 is never closed');
  t.equal(problem('a}b'), 'a "}" at position 2 closes no placeholder');
  t.match(problem('{}'), /^\{\} is not a placeholder/);
  t.match(problem('{{namespace}}'), /^\{\{namespace\} is not a placeholder/);
  t.throws(() => identityTemplate('{x}'), /identity template "\{x\}": \{x\} is not a placeholder/);
  t.end();
});
