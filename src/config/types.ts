/** The validated, frozen configuration of `csr-signer run`. Only src/config/ reads argv, env and files. */
import type { FileKind } from '../files.js';
import type { RequestLimits } from '../pki/index.js';
import type { ApproverConfig, CleanupConfig, SignerConfig } from '../signer/types.js';

export interface LeaderElectionConfig {
  readonly enabled: boolean;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly resourceName: string;
  /** Default: the pod's namespace ($POD_NAMESPACE, else the service account's); outside a pod "kube-system", as kube-controller-manager. */
  readonly resourceNamespace: string;
  /** Where resourceNamespace came from, for the start-up log line. */
  readonly resourceNamespaceSource: LeaseNamespaceSource;
}

/** The flag, the downward API's POD_NAMESPACE, the service account's namespace file, or kube-controller-manager's default. */
export type LeaseNamespaceSource = 'flag' | 'POD_NAMESPACE' | 'service account' | 'default outside a pod';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'json' | 'text';

/** --http-address given, or its default (loopback). */
export type HttpAddressSource = 'flag' | 'default';

export interface RunConfig {
  /** undefined: KUBECONFIG, then the in-cluster service account, then ~/.kube/config. */
  readonly kubeconfig?: string;
  readonly signers: readonly SignerConfig[];
  /** Sign approved CSRs (the default). false: this process only approves and cleans (a separate approver Deployment); CAs are not loaded. */
  readonly signing?: boolean;
  /** The approver (--approve, or `approver:` in the config file); absent: off. */
  readonly approver?: ApproverConfig;
  /** The CSR cleaner; on by default with the approver; absent: off. */
  readonly cleanup?: CleanupConfig;
  /** Concurrent signings (--workers). */
  readonly workers: number;
  /** Global token bucket for retries, as client-go's workqueue: qps and burst. */
  readonly retryQps: number;
  readonly retryBurst: number;
  /** Per-CSR exponential backoff for transient errors. */
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** A watch still open and silent this long past the server-side timeout it asked for is restarted (src/kube/list-watch.ts). */
  readonly watchQuietTimeoutMs: number;
  readonly requestLimits: RequestLimits;
  /** `host:port` of the health and metrics listener: 127.0.0.1:8080 unless given. */
  readonly httpAddress: string;
  readonly httpAddressSource: HttpAddressSource;
  /** On SIGTERM, how long signings in flight may take to finish. */
  readonly shutdownTimeoutMs: number;
  /** How often the CA files are re-read besides change notifications. */
  readonly caReloadIntervalMs: number;
  /** Refuse a world-readable CA key file instead of warning (group-readable is normal). */
  readonly strictKeyPermissions: boolean;
  readonly leaderElection: LeaderElectionConfig;
  readonly logLevel: LogLevel;
  /** json lines, or human-readable text (--logging-format). */
  readonly logFormat: LogFormat;
  /** Emit Kubernetes Events on CSRs. */
  readonly events: boolean;
  /** The ConfigMap (in the Lease's namespace) recording per CA a bound on the latest NotAfter issued; undefined: memory only. */
  readonly rotationRecord?: { readonly namespace: string; readonly name: string };
  /** How often published trust bundles are read back and repaired. */
  readonly trustResyncIntervalMs: number;
}

/** Reads a file as text within the limit of its kind (src/files.ts readBoundedText; tests pass fakes). */
export type ReadFile = (path: string, kind: FileKind) => string;
