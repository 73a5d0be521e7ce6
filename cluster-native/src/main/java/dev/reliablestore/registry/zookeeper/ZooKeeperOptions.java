package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.options.Option;
import dev.reliablestore.options.OptionTable;
import dev.reliablestore.options.OptionValues;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.RegistryArgumentException;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The parsed {@code zookeeper://host:port[,host:port…]/<chroot>[?key=value&…]} URI and options.
 * Options come from the URI query and from the options map (the map wins); they are {@link #TABLE}
 * (rendered in docs/zookeeper-backend.md and checked against it); unknown keys are refused.
 */
record ZooKeeperOptions(
        String connectString,
        String chroot,
        int sessionTimeoutMs,
        int connectionTimeoutMs,
        long failoverTimeoutMs,
        String nodeName,
        List<String> nodeAffinity,
        int minNodes,
        String digestCredentials,
        int maxRequestBytes,
        long feedRetentionMs,
        int feedCapacity,
        boolean tls,
        String tlsKeyStore,
        String tlsKeyStorePassword,
        String tlsTrustStore,
        String tlsTrustStorePassword,
        boolean requireTls,
        String redactedUri,
        String acl,
        boolean linearizableReads,
        boolean primaryCandidate,
        String kerberosPrincipal,
        String kerberosKeytab,
        List<String> kerberosReadOnlyPrincipals,
        boolean requireKerberos) {

    /** {@link #ACL} values: the digest ACL of the {@code digest} credentials, or no protection at all (explicit opt-in). */
    static final String ACL_DIGEST = "digest";
    static final String ACL_OPEN = "open";
    /** {@link #ACL} value: the {@code x509} ACL of the subject of the {@code tlsKeyStore}'s certificate. */
    static final String ACL_X509 = "x509";
    /** {@link #ACL} value: {@code sasl:<kerberosPrincipal>} with all permissions, plus read-only principals. */
    static final String ACL_SASL = "sasl";

    /** How plain reads relate to writes of other sessions. */
    enum ReadConsistency { SNAPSHOT, LINEARIZABLE }

    static final Option<Duration> SESSION_TIMEOUT = Option.duration("sessionTimeout", Duration.ofSeconds(10), Duration.ofSeconds(1),
            Duration.ofMinutes(10), "ZooKeeper session timeout; the server clamps it to [2, 20] × its tickTime. Failure detection of nodes"
                    + " (ephemeral members, primary) takes this long.").withBareNumbersAs("ms");
    static final Option<Duration> CONNECTION_TIMEOUT = Option.duration("connectionTimeout", Duration.ofSeconds(5), Duration.ofMillis(100),
            Duration.ofMinutes(10), "Curator connection timeout: the bound of the first connection when opening and of the health probe. Other steps of"
                    + " opening have bounds of their own: checking the ACLs `failoverTimeout`; creating the layout Curator's retries (up to 5,"
                    + " each waiting at most this long for a connection); registering the member and reading the membership the longer of"
                    + " this and 5 s each, and a member znode another session holds 1.5 × `sessionTimeout` + 1 s (see Membership).").withBareNumbersAs("ms");
    static final Option<Duration> FAILOVER_TIMEOUT = Option.duration("failoverTimeout", Duration.ofSeconds(30), Duration.ofMillis(100),
            Duration.ofHours(1), "see above.").withBareNumbersAs("ms");
    static final Option<String> NODE_NAME = Option.string("nodeName", null, "`{host}-{pid}-{n}`", "1..255 chars, no `/`, `,`, control",
            name -> checkNodeName(name), "this registry's member name; must be unique among live registries of the chroot.");
    static final Option<String> NODE_AFFINITY = Option.string("nodeAffinity", "", "empty", "comma-separated node names",
            ZooKeeperOptions::checkAffinity, "preferred primaries, most preferred first.");
    static final Option<Boolean> PRIMARY_CANDIDATE = Option.bool("primaryCandidate", true,
            "whether this registry runs for primary; `false` for a tool, which must not be handed the role (every command of the"
                    + " `reliablestore` CLI opens with it unless given).");
    static final Option<Long> MIN_NODES = Option.integer("minNodes", 1, 1, 1000, "registries", "writes refused while fewer registries are live.");
    static final Option<ReadConsistency> READ_CONSISTENCY = Option.choice("readConsistency", readConsistencies(), ReadConsistency.SNAPSHOT,
            "`linearizable`: every read behind a quorum barrier (Guarantees, Reads).");
    static final Option<String> DIGEST = Option.secret("digest", "`user:password`", ZooKeeperOptions::checkDigest,
            "digest credentials: the chroot and every znode below it carry exactly the ACL `digest:user:base64(sha1(user:password))` with"
                    + " all permissions; the registry authenticates with them. Never echoed (`uri()` shows `***`). Required unless `kerberosPrincipal`, `acl=x509` or"
                    + " `acl=open`.")
            .withLiteralsAcceptedForOneRelease();
    static final Option<String> ACL = Option.string("acl", null, "`digest` with `digest`, else `sasl` with `kerberosPrincipal`, else none",
            "`digest`, `sasl`, `x509` or `open`",
            ZooKeeperOptions::checkAclName, "the ACL the chroot must carry (see Security). `x509`: exactly `x509:<subject DN of the"
                    + " tlsKeyStore's certificate>` with all permissions (needs `tls=true` and `tlsKeyStore`; see TLS). `sasl`: exactly"
                    + " `sasl:<kerberosPrincipal>` with all permissions and `sasl:<p>` read-only for each of `kerberosReadOnlyPrincipals`"
                    + " (see Kerberos). `open` is an explicit"
                    + " opt-in to an **insecure** store (`world:anyone`, all permissions) and is refused together with `digest`; without"
                    + " `digest`, `kerberosPrincipal`, `acl=x509` or `acl=open` opening is refused.");
    static final Option<Long> MAX_REQUEST_BYTES = Option.size("maxRequestBytes", 0xfffff, 256 * 1024, 512L * 1024 * 1024,
            "must equal the servers' (and other clients') `jute.maxbuffer`; limits are derived from it (see Limits). The registry's own"
                    + " client is configured from it (it accepts answers of twice that plus 16 KiB, a multi read of two values, and at least 64 MiB: a listing is bounded by no request).");
    static final Option<Duration> FEED_RETENTION = Option.duration("feedRetention", Duration.ofMinutes(2), Duration.ofSeconds(10),
            Duration.ofDays(1), "how long change-log entries are kept: the history replaying watches read (`watch(subtree, afterSequence, …)`),"
                    + " for lagging watchers and for outcome verification; at least twice `failoverTimeout`. The primary collects the log with its"
                    + " own setting: give every registry of a store the same `feedRetention` and `failoverTimeout`. Entries carry their"
                    + " values, and every ZooKeeper server holds them in memory (see Change feed).").withBareNumbersAs("ms").withDefaultText("`2m`, or twice `failoverTimeout` if that is longer");
    static final Option<Long> FEED_CAPACITY = Option.integer("feedCapacity", 10_000, 1, 1_000_000, "batches",
            "batches queued per watch before a slow listener is resynchronised.");
    static final Option<Boolean> TLS = Option.bool("tls", false, "TLS to the ensemble's `secureClientPort` (Netty client socket,"
            + " `zookeeper.client.secure=true`), the server's certificate verified against `tlsTrustStore` and the host name (see TLS).");
    static final Option<Boolean> REQUIRE_TLS = Option.bool("requireTls", false, "refuse to open unless `tls=true`: a deployment's guard"
            + " against a plaintext connection string.");
    static final Option<String> TLS_KEY_STORE = Option.string("tlsKeyStore", null, "none", "a readable `.p12`/`.pfx`, `.jks`, `.pem` or `.bcfks` file",
            ZooKeeperOptions::storeFile, "client certificate and key (for mutual TLS); needs `tls=true`. Read again for every new connection.");
    static final Option<String> TLS_KEY_STORE_PASSWORD = Option.secret("tlsKeyStorePassword", "secret", p -> p, "password of `tlsKeyStore`.")
            .withLiteralsAcceptedForOneRelease();
    static final Option<String> TLS_TRUST_STORE = Option.string("tlsTrustStore", null, "the JVM's", "a readable `.p12`/`.pfx`, `.jks`, `.pem` or"
            + " `.bcfks` file", ZooKeeperOptions::storeFile, "CA certificates the servers' certificates must chain to; needs `tls=true`."
            + " Read again for every new connection.");
    static final Option<String> TLS_TRUST_STORE_PASSWORD = Option.secret("tlsTrustStorePassword", "secret", p -> p, "password of `tlsTrustStore`.")
            .withLiteralsAcceptedForOneRelease();

    static final Option<String> KERBEROS_PRINCIPAL = Option.string("kerberosPrincipal", null, "none", "`name[/instance]@REALM`",
            ZooKeeperOptions::checkPrincipal, "authenticate to the servers with SASL/GSSAPI as this principal, from `kerberosKeytab` (see"
                    + " Kerberos); with `acl=sasl` the ACL names it.");
    static final Option<String> KERBEROS_KEYTAB = Option.string("kerberosKeytab", null, "none", "a readable keytab file",
            ZooKeeperOptions::readableFile, "the keytab holding `kerberosPrincipal`'s keys (a path, not a secret reference; protect the file).");
    static final Option<String> KERBEROS_READ_ONLY_PRINCIPALS = Option.string("kerberosReadOnlyPrincipals", "", "none",
            "comma-separated `name[/instance]@REALM`", ZooKeeperOptions::checkPrincipals, "with `acl=sasl`: principals the ACL grants"
                    + " READ only (monitoring, backup tools reading the znodes).");
    static final Option<Boolean> REQUIRE_KERBEROS = Option.bool("requireKerberos", false, "refuse to open unless `kerberosPrincipal` and"
            + " `kerberosKeytab` are set: a deployment's guard against an unauthenticated connection (the seed's `RequireKerberos`).");

    static final OptionTable TABLE = OptionTable.of("the zookeeper registry", SESSION_TIMEOUT, CONNECTION_TIMEOUT, FAILOVER_TIMEOUT,
            NODE_NAME, NODE_AFFINITY, PRIMARY_CANDIDATE, MIN_NODES, READ_CONSISTENCY, DIGEST, ACL, MAX_REQUEST_BYTES, FEED_RETENTION,
            FEED_CAPACITY, TLS, REQUIRE_TLS, TLS_KEY_STORE, TLS_KEY_STORE_PASSWORD, TLS_TRUST_STORE, TLS_TRUST_STORE_PASSWORD,
            KERBEROS_PRINCIPAL, KERBEROS_KEYTAB, KERBEROS_READ_ONLY_PRINCIPALS, REQUIRE_KERBEROS);

    private static Map<String, ReadConsistency> readConsistencies() {
        Map<String, ReadConsistency> m = new LinkedHashMap<>();
        m.put("snapshot", ReadConsistency.SNAPSHOT);
        m.put("linearizable", ReadConsistency.LINEARIZABLE);
        return m;
    }

    /** ZooKeeper's own default for jute.maxbuffer (the largest request a server accepts). */
    static final int ZOOKEEPER_DEFAULT_MAX_BUFFER = 0xfffff;

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    @Override
    public String toString() {
        return "ZooKeeperOptions[" + redactedUri + "]";
    }

    static ZooKeeperOptions parse(URI uri, Map<String, String> options) {
        if (!"zookeeper".equals(uri.getScheme())) {
            throw new RegistryArgumentException("not a zookeeper URI: scheme \"" + uri.getScheme() + "\"");
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isBlank()) {
            throw new RegistryArgumentException("zookeeper URI " + redact(uri) + " names no server; expected zookeeper://host:port[,host:port...]/<chroot>");
        }
        if (authority.contains("@")) {
            throw new RegistryArgumentException("zookeeper URI " + redact(uri) + " carries user info; pass credentials with the \"digest\" option instead");
        }
        for (String hostPort : authority.split(",", -1)) {
            int colon = hostPort.lastIndexOf(':');
            if (hostPort.isBlank() || colon <= 0 || colon == hostPort.length() - 1) {
                throw new RegistryArgumentException("zookeeper server \"" + hostPort + "\" in " + redact(uri) + " is not host:port");
            }
            parseInt("port of " + hostPort, hostPort.substring(colon + 1), 1, 65535);
        }
        String chroot = uri.getPath();
        while (chroot != null && chroot.endsWith("/")) {
            chroot = chroot.substring(0, chroot.length() - 1);
        }
        if (chroot == null || chroot.isEmpty()) {
            throw new RegistryArgumentException("zookeeper URI " + redact(uri) + " has no chroot; the registry needs its own subtree, e.g. zookeeper://"
                    + authority + "/reliablestore");
        }
        for (String segment : chroot.substring(1).split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..") || segment.equals("zookeeper") && chroot.indexOf('/', 1) < 0) {
                throw new RegistryArgumentException("chroot \"" + chroot + "\" is not a valid ZooKeeper path for a registry (empty, '.', '..' or /zookeeper)");
            }
            for (int i = 0; i < segment.length(); i++) {
                char c = segment.charAt(i);
                if (Character.isISOControl(c) || c >= '\ud800' && c <= '\uf8ff' || c >= '\ufff0') {
                    throw new RegistryArgumentException("chroot \"" + chroot + "\" contains a character ZooKeeper does not allow at index " + i);
                }
            }
        }

        Map<String, String> all = ClusterRegistries.queryOptions(uri);
        all.putAll(options);
        OptionValues v = TABLE.read(all, RegistryArgumentException::new);
        long failover = v.get(FAILOVER_TIMEOUT).toMillis();
        // unset: long enough for the outcome verification that a larger failoverTimeout allows
        long retention = v.isSet(FEED_RETENTION) ? v.get(FEED_RETENTION).toMillis() : Math.max(v.get(FEED_RETENTION).toMillis(), 2 * failover);
        if (retention < 2 * failover) {
            throw new RegistryArgumentException("option feedRetention (" + retention + " ms) must be at least twice failoverTimeout ("
                    + failover + " ms): a commit whose outcome is being verified after a failover needs its change-log entry");
        }
        boolean tls = v.get(TLS);
        if (!tls && (v.isSet(TLS_KEY_STORE) || v.isSet(TLS_TRUST_STORE) || v.isSet(TLS_KEY_STORE_PASSWORD) || v.isSet(TLS_TRUST_STORE_PASSWORD))) {
            throw new RegistryArgumentException("TLS key/trust store options are set but option tls is not true; set tls=true or remove them");
        }
        if (v.get(REQUIRE_TLS) && !tls) {
            throw new RegistryArgumentException("option requireTls=true refuses to open " + redact(uri) + " in plaintext: set tls=true (with"
                    + " tlsKeyStore and tlsTrustStore) and connect to the servers' secureClientPort");
        }
        String principal = v.get(KERBEROS_PRINCIPAL);
        if ((principal == null) != (v.get(KERBEROS_KEYTAB) == null)) {
            throw new RegistryArgumentException(principal == null ? "option kerberosKeytab is set without kerberosPrincipal: set both or neither"
                    : "option kerberosPrincipal=" + principal + " needs kerberosKeytab (the keytab holding its keys)");
        }
        if (v.get(REQUIRE_KERBEROS) && principal == null) {
            throw new RegistryArgumentException("option requireKerberos=true refuses to open " + redact(uri) + " without Kerberos: set"
                    + " kerberosPrincipal and kerberosKeytab (SASL/GSSAPI authentication to the servers)");
        }
        String digest = v.get(DIGEST);
        String acl = parseAcl(v.get(ACL), digest != null, principal, redact(uri));
        List<String> readOnly = splitList(v.get(KERBEROS_READ_ONLY_PRINCIPALS));
        if (!readOnly.isEmpty() && !acl.equals(ACL_SASL)) {
            throw new RegistryArgumentException("option kerberosReadOnlyPrincipals needs acl=sasl: it adds read-only entries to the sasl ACL");
        }
        if (principal != null && readOnly.contains(principal)) {
            throw new RegistryArgumentException("option kerberosReadOnlyPrincipals names " + principal + ", the kerberosPrincipal itself, which"
                    + " has all permissions");
        }
        if (acl.equals(ACL_X509) && v.get(TLS_KEY_STORE) == null) {
            throw new RegistryArgumentException("option acl=x509 needs tls=true and tlsKeyStore: the ACL names the subject of that store's"
                    + " certificate, which the servers authenticate in the TLS handshake");
        }
        String nodeName = v.isSet(NODE_NAME) ? v.get(NODE_NAME) : checkNodeName(defaultNodeName());
        List<String> affinity = splitList(v.get(NODE_AFFINITY));
        return new ZooKeeperOptions(authority, chroot, (int) v.get(SESSION_TIMEOUT).toMillis(), (int) v.get(CONNECTION_TIMEOUT).toMillis(), failover,
                nodeName, List.copyOf(affinity), v.get(MIN_NODES).intValue(), digest, v.get(MAX_REQUEST_BYTES).intValue(), retention,
                v.get(FEED_CAPACITY).intValue(), tls, v.get(TLS_KEY_STORE), v.get(TLS_KEY_STORE_PASSWORD), v.get(TLS_TRUST_STORE),
                v.get(TLS_TRUST_STORE_PASSWORD), v.get(REQUIRE_TLS), redact(uri), acl, v.get(READ_CONSISTENCY) == ReadConsistency.LINEARIZABLE,
                v.get(PRIMARY_CANDIDATE), principal, v.get(KERBEROS_KEYTAB), readOnly, v.get(REQUIRE_KERBEROS));
    }

    private static List<String> splitList(String text) {
        List<String> items = new ArrayList<>();
        for (String n : text.split(",")) {
            if (!n.isBlank()) {
                items.add(n.strip());
            }
        }
        return List.copyOf(items);
    }

    /**
     * The realm is required: the servers' SASL provider authenticates a connection as the full principal
     * (by default), and the ACL must name exactly that.
     */
    private static String checkPrincipal(String principal) {
        int at = principal.lastIndexOf('@');
        if (at <= 0 || at == principal.length() - 1 || principal.indexOf('@') != at || principal.startsWith("/") || principal.contains("//")
                || principal.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c) || c == ',')) {
            throw new IllegalArgumentException("\"" + principal.replaceAll("\\p{Cntrl}", "?") + "\" is not a Kerberos principal name[/instance]@REALM");
        }
        return principal;
    }

    private static String checkPrincipals(String text) {
        List<String> seen = new ArrayList<>();
        for (String p : splitList(text)) {
            if (seen.contains(checkPrincipal(p))) {
                throw new IllegalArgumentException("names \"" + p + "\" twice");
            }
            seen.add(p);
        }
        return text;
    }

    private static String readableFile(String path) {
        if (!Files.isRegularFile(Path.of(path)) || !Files.isReadable(Path.of(path))) {
            throw new IllegalArgumentException("\"" + path + "\" is not a readable file");
        }
        return path;
    }

    private static String checkAffinity(String text) {
        List<String> seen = new ArrayList<>();
        for (String n : text.split(",")) {
            if (n.isBlank()) {
                continue;
            }
            String name = checkNodeName(n.strip());
            if (seen.contains(name)) {
                throw new IllegalArgumentException("names \"" + name + "\" twice");
            }
            seen.add(name);
        }
        return text;
    }

    private static String checkDigest(String digest) {
        int colon = digest.indexOf(':');
        if (colon <= 0 || colon == digest.length() - 1) {
            throw new IllegalArgumentException("must be user:password with both parts non-empty (value not shown)");
        }
        return digest;
    }

    private static String checkAclName(String acl) {
        if (!acl.equals(ACL_DIGEST) && !acl.equals(ACL_OPEN) && !acl.equals(ACL_X509) && !acl.equals(ACL_SASL)) {
            throw new IllegalArgumentException("must be digest, sasl, x509 or open, got \"" + acl + "\"");
        }
        return acl;
    }

    private static String storeFile(String path) {
        if (!Files.isReadable(Path.of(path))) {
            throw new IllegalArgumentException("\"" + path + "\" is not a readable file");
        }
        storeType(path);
        return path;
    }

    /**
     * The store's type, from its name as ZooKeeper's X509Util infers it; given to the client explicitly, so a
     * JVM-wide {@code zookeeper.ssl.*.type} cannot contradict the file.
     */
    static String storeType(String path) {
        String name = path.toLowerCase(Locale.ROOT);
        if (name.endsWith(".p12") || name.endsWith(".pfx")) {
            return "PKCS12";
        }
        if (name.endsWith(".jks")) {
            return "JKS";
        }
        if (name.endsWith(".pem")) {
            return "PEM";
        }
        if (name.endsWith(".bcfks")) {
            return "BCFKS";
        }
        throw new IllegalArgumentException("\"" + path + "\" has no store type ZooKeeper recognises by name: end it in .p12, .pfx, .jks, .pem or .bcfks");
    }

    /**
     * An unprotected chroot is an explicit choice: without credentials, opening needs {@code acl=open}.
     * The value names the ACL scheme.
     */
    private static String parseAcl(String value, boolean digest, String principal, String uri) {
        if (value == null) {
            if (!digest && principal != null) {
                return ACL_SASL;
            }
            if (!digest) {
                throw new RegistryArgumentException("zookeeper registry " + uri + " has no credentials: give the option digest=user:password"
                        + " (the chroot and every znode below it then carry a digest ACL only these credentials pass), kerberosPrincipal and"
                        + " kerberosKeytab (a sasl ACL only that principal passes), acl=x509 with tls=true"
                        + " and tlsKeyStore (an ACL only that client certificate's subject passes), or acl=open for an"
                        + " insecure store that every client of the ZooKeeper ensemble can read and change");
            }
            return ACL_DIGEST;
        }
        if (value.equals(ACL_X509)) {
            if (digest) {
                throw new RegistryArgumentException("options acl=x509 and digest contradict each other: the chroot carries one identity's"
                        + " ACL; remove one");
            }
            return ACL_X509;
        }
        if (value.equals(ACL_SASL)) {
            if (principal == null) {
                throw new RegistryArgumentException("option acl=sasl needs kerberosPrincipal and kerberosKeytab: the ACL names that principal,"
                        + " which the servers authenticate with SASL/GSSAPI");
            }
            if (digest) {
                throw new RegistryArgumentException("options acl=sasl and digest contradict each other: the chroot carries one identity's"
                        + " ACL; remove one");
            }
            return ACL_SASL;
        }
        return switch (value) {
            case ACL_DIGEST -> {
                if (!digest) {
                    throw new RegistryArgumentException("option acl=digest needs the digest option (digest=user:password)");
                }
                yield ACL_DIGEST;
            }
            case ACL_OPEN -> {
                if (digest) {
                    throw new RegistryArgumentException("options acl=open and digest contradict each other: acl=open leaves the chroot open to"
                            + " every client, digest protects it; remove one");
                }
                yield ACL_OPEN;
            }
            default -> throw new RegistryArgumentException("option acl must be digest, sasl, x509 or open, got \"" + value + "\"");
        };
    }

    /** The URI without secret option values. */
    static String redact(URI uri) {
        return ClusterRegistries.redact(uri.toString());
    }

    private static String defaultNodeName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "localhost";
        }
        return host + "-" + ProcessHandle.current().pid() + "-" + INSTANCES.incrementAndGet();
    }

    private static String checkNodeName(String name) {
        if (name.isEmpty() || name.length() > 255) {
            throw new IllegalArgumentException("node name \"" + name + "\" must have 1..255 characters, has " + name.length());
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c) || c == '/' || c == ',') {
                throw new IllegalArgumentException("node name \"" + name.replaceAll("\\p{Cntrl}", "?")
                        + "\" contains a forbidden character at index " + i + " (no '/', ',' or control characters)");
            }
        }
        return name;
    }

    private static int parseInt(String key, String text, int min, int max) {
        long v;
        try {
            v = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new RegistryArgumentException("option " + key + " must be an integer in " + min + ".." + max + ", got \"" + text + "\"");
        }
        if (v < min || v > max) {
            throw new RegistryArgumentException("option " + key + " is " + v + "; it must be in " + min + ".." + max);
        }
        return (int) v;
    }
}
