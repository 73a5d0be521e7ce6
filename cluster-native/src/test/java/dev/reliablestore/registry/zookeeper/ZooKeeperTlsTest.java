package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Mutually authenticated TLS to a real ZooKeeper server (Netty, {@code secureClientPort},
 * {@code ssl.clientAuth=need}, x509 authentication) with certificates issued here ({@link TestPki}).
 * The server runs in a JVM of its own: its TLS settings are JVM-wide system properties and its
 * x509 provider a JVM-wide registry, which in this JVM would also configure the client under test.
 * Every refusal has its positive control with the right certificate.
 */
@SuppressWarnings("try") // plain ZooKeeper handles as resources: their close() may throw InterruptedException, which the tests declare
class ZooKeeperTlsTest {

    static {
        ZkTestSupport.init();
    }

    private static final String ALICE = "CN=alice,OU=registry,O=ReliableStore tests";
    private static final String STORE_PASSWORD = "store-" + UUID.randomUUID();
    private static final RegistryPath KEY = RegistryPath.of("Entities", "Customer");
    /** connectionTimeout of the opens that must fail: the refusal's reason comes from the probe after it, not from waiting. */
    private static final String REFUSED_WITHIN = "500ms";

    @TempDir
    static Path dir;

    private static TestPki.Issued ca;
    private static TestPki.Issued otherCa;
    private static ZooKeeperServerProcess server;
    private static int securePort;
    private static Path trust;
    private static Path alice;
    /** As the server names it: RFC 2253, most significant part last. */
    private static String aliceId;
    private static String passwordRef;

    @BeforeAll
    static void start() throws Exception {
        ca = TestPki.ca("ReliableStore test CA");
        otherCa = TestPki.ca("Another CA");
        Path password = Files.writeString(dir.resolve("store-password"), STORE_PASSWORD);
        passwordRef = "file:" + password;
        trust = TestPki.trustStore(dir.resolve("client-trust.p12"), STORE_PASSWORD, ca);
        TestPki.Issued aliceCert = TestPki.client(ca, ALICE);
        aliceId = aliceCert.certificate().getSubjectX500Principal().getName();
        alice = TestPki.keyStore(dir.resolve("alice.p12"), aliceCert, STORE_PASSWORD);
        securePort = ZooKeeperServerProcess.freePort();
        server = startServer(dir.resolve("server"), securePort, TestPki.server(ca, "zookeeper", "localhost", "127.0.0.1"), ca);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** Netty on both ports; the secure one demands a client certificate from the given CAs and authenticates it as x509. */
    static ZooKeeperServerProcess startServer(Path home, int securePort, TestPki.Issued serverCert, TestPki.Issued... trusted) throws Exception {
        Files.createDirectories(home);
        Path keyStore = home.resolve("server.p12");
        if (!Files.exists(keyStore)) {
            TestPki.keyStore(keyStore, serverCert, STORE_PASSWORD);
            TestPki.trustStore(home.resolve("server-trust.p12"), STORE_PASSWORD, trusted);
        }
        int port;
        do {
            port = ZooKeeperServerProcess.freePort(); // chosen after the secure port was released: it could be the same one
        } while (port == securePort);
        return new ZooKeeperServerProcess(home, port, List.of(
                "secureClientPort=" + securePort,
                "secureClientPortAddress=127.0.0.1",
                "ssl.keyStore.location=" + keyStore,
                "ssl.keyStore.password=" + STORE_PASSWORD,
                "ssl.trustStore.location=" + home.resolve("server-trust.p12"),
                "ssl.trustStore.password=" + STORE_PASSWORD,
                "ssl.clientAuth=need",
                "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider"),
                "-Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory");
    }

    private static String secure() {
        return "127.0.0.1:" + securePort;
    }

    /** TLS options with this key store (none: null), the test CA's trust store and passwords from a file reference. */
    private static Map<String, String> tls(Path keyStore, String... more) {
        String[] kv = {ZooKeeperOptions.TLS.name(), "true", ZooKeeperOptions.REQUIRE_TLS.name(), "true",
                ZooKeeperOptions.TLS_TRUST_STORE.name(), trust.toString(), ZooKeeperOptions.TLS_TRUST_STORE_PASSWORD.name(), passwordRef};
        if (keyStore != null) {
            kv = concat(kv, ZooKeeperOptions.TLS_KEY_STORE.name(), keyStore.toString(), ZooKeeperOptions.TLS_KEY_STORE_PASSWORD.name(), passwordRef,
                    ZooKeeperOptions.ACL.name(), ZooKeeperOptions.ACL_X509);
        }
        return ZkTestSupport.options(concat(kv, more));
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static void writeAndReadBack(ClusterRegistry r, String name, byte[] value) {
        r.commit(WriteBatch.builder().setValue(KEY, name, RegistryValue.binary(value)).build());
        assertThat(r.getValue(KEY, name)).hasValueSatisfying(v -> assertThat(v.value()).isEqualTo(RegistryValue.binary(value)));
    }

    @Test
    void aClientWithItsCertificateReadsAndWritesAndTheChrootCarriesItsX509Acl() throws Exception {
        String chroot = ZkTestSupport.freshChroot("tls");
        try (ClusterRegistry r = ZkTestSupport.open(secure(), chroot, tls(alice))) {
            writeAndReadBack(r, "C-1", "card 4111".getBytes(StandardCharsets.UTF_8));
        }
        try (ZooKeeper zk = plain(chroot, alice)) {
            for (String znode : List.of(chroot, chroot + "/data")) {
                assertThat(zk.getACL(znode, new Stat())).as(znode).containsExactly(new ACL(ZooDefs.Perms.ALL, new Id("x509", aliceId)));
            }
        }
        // a second open with the same certificate: the ACL check passes, the data is there
        try (ClusterRegistry again = ZkTestSupport.open(secure(), chroot, tls(alice))) {
            assertThat(again.getValue(KEY, "C-1")).isPresent();
        }
    }

    @Test
    void anotherTrustedCertificateIsRefusedByTheX509Acl() throws Exception {
        String chroot = ZkTestSupport.freshChroot("tls-acl");
        try (ClusterRegistry r = ZkTestSupport.open(secure(), chroot, tls(alice))) {
            writeAndReadBack(r, "C-1", new byte[] {1});
        }
        Path bob = TestPki.keyStore(dir.resolve("bob.p12"), TestPki.client(ca, "CN=bob,O=ReliableStore tests"), STORE_PASSWORD);
        assertThatThrownBy(() -> ZkTestSupport.open(secure(), chroot, tls(bob)).close())
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining(chroot)
                .hasMessageContaining("CN=bob");
        // the server's own verdict, without the registry in between: authenticated over TLS, but not alice
        try (ZooKeeper zk = plain(chroot, bob)) {
            assertThatThrownBy(() -> zk.getData(chroot + "/data", false, null)).isInstanceOf(KeeperException.NoAuthException.class);
        }
        try (ZooKeeper zk = plain(chroot, alice)) {
            assertThat(zk.getChildren(chroot + "/data", false)).isNotEmpty();
        }
    }

    /** zk secure with acl=x509 and the old digest as the previous credentials moves a digest chroot to the certificate's ACL. */
    @Test
    void zkSecureMovesADigestChrootToX509() throws Exception {
        String chroot = ZkTestSupport.freshChroot("tls-move");
        String digestRef = "file:" + Files.writeString(dir.resolve("digest-" + chroot.substring(1)), "app:app-secret");
        try (ClusterRegistry r = ZkTestSupport.open(secure(), chroot, tls(alice, ZooKeeperOptions.ACL.name(), ZooKeeperOptions.ACL_DIGEST,
                ZooKeeperOptions.DIGEST.name(), digestRef))) {
            writeAndReadBack(r, "C-1", new byte[] {7});
        }
        assertThatThrownBy(() -> ZkTestSupport.open(secure(), chroot, tls(alice)).close()).isInstanceOf(RegistryException.class);
        Map<String, String> moving = new java.util.HashMap<>(tls(alice));
        moving.put(ZooKeeperOptions.DIGEST.name(), digestRef);
        ZooKeeperSecure.Result result = ZooKeeperSecure.secure(URI.create("zookeeper://" + secure() + chroot), moving, false);
        assertThat(result.changed()).isPositive();
        assertThat(result.acl()).contains("x509:" + aliceId);
        try (ClusterRegistry r = ZkTestSupport.open(secure(), chroot, tls(alice))) {
            assertThat(r.getValue(KEY, "C-1")).hasValueSatisfying(v -> assertThat(v.value()).isEqualTo(RegistryValue.binary(new byte[] {7})));
        }
    }

    /** A bare ZooKeeper handle, connected over TLS exactly as the registry connects with this key store. */
    private static ZooKeeper plain(String chroot, Path keyStore) throws Exception {
        ZooKeeperOptions o = ZooKeeperOptions.parse(URI.create("zookeeper://" + secure() + chroot), tls(keyStore));
        ZooKeeper zk = new ZooKeeper(secure(), 10_000, event -> { }, ZooKeeperRegistry.clientConfig(o));
        await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10)).until(() -> zk.getState().isConnected());
        return zk;
    }

    @Test
    void aClientWithoutCertificateIsRefused() {
        assertRefusedByServer(tls(null, ZooKeeperOptions.ACL.name(), ZooKeeperOptions.ACL_OPEN));
    }

    @Test
    void aCertificateFromAnotherCaIsRefused() throws Exception {
        // the same subject as the trusted one: only the issuer differs
        Path rogue = TestPki.keyStore(dir.resolve("rogue.p12"), TestPki.client(otherCa, ALICE), STORE_PASSWORD);
        assertRefusedByServer(tls(rogue));
    }

    @Test
    void anExpiredCertificateIsRefused() throws Exception {
        Path expired = TestPki.keyStore(dir.resolve("expired.p12"), TestPki.expiredClient(ca, ALICE), STORE_PASSWORD);
        assertRefusedByServer(tls(expired));
    }

    private static void assertRefusedByServer(Map<String, String> options) {
        options.put(ZooKeeperOptions.CONNECTION_TIMEOUT.name(), REFUSED_WITHIN);
        assertThatThrownBy(() -> ZkTestSupport.open(secure(), ZkTestSupport.freshChroot("tls-refused"), options).close())
                .isInstanceOf(RegistryUnavailableException.class)
                .hasMessageContaining("TLS handshake refused by " + secure())
                .hasMessageContaining("the server refused this client's certificate (option tlsKeyStore")
                .hasMessageNotContaining(STORE_PASSWORD);
    }

    @Test
    void aServerCertificateNotIssuedForTheHostIsRefused() throws Exception {
        // the same server and certificate, reached as 127.0.0.2: not among the certificate's names
        try (CuttingProxy elsewhere = new CuttingProxy(securePort, InetAddress.getByName("127.0.0.2"))) {
            Map<String, String> options = tls(alice);
            options.put(ZooKeeperOptions.CONNECTION_TIMEOUT.name(), REFUSED_WITHIN);
            assertThatThrownBy(() -> ZkTestSupport.open(elsewhere.connectString(), ZkTestSupport.freshChroot("tls-host"), options).close())
                    .isInstanceOf(RegistryUnavailableException.class)
                    .hasMessageContaining("not issued for \"127.0.0.2\" (hostname verification)");
        }
    }

    /**
     * Without {@code tlsTrustStore} the JDK's default trust store decides, so ZooKeeper's own trust
     * manager (which checks host names outside its FIPS mode) is not used, and the JVM-wide
     * {@code zookeeper.fips-mode=false} turns off the JDK's endpoint identification that FIPS mode
     * asks for: the host name must still be checked. The refused open is given seconds, not the
     * others' 500 ms, so that with the check gone it would connect rather than time out.
     */
    @Test
    void theHostNameIsCheckedWithTheJdksTrustStoreAndTheJvmOutOfFipsMode() throws Exception {
        Map<String, String> options = tls(alice);
        options.remove(ZooKeeperOptions.TLS_TRUST_STORE.name());
        options.remove(ZooKeeperOptions.TLS_TRUST_STORE_PASSWORD.name());
        Properties saved = (Properties) System.getProperties().clone();
        System.setProperty("zookeeper.fips-mode", "false");
        System.setProperty("javax.net.ssl.trustStore", trust.toString());
        System.setProperty("javax.net.ssl.trustStorePassword", STORE_PASSWORD);
        System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");
        try (CuttingProxy elsewhere = new CuttingProxy(securePort, InetAddress.getByName("127.0.0.2"))) {
            Map<String, String> refused = new HashMap<>(options);
            refused.put(ZooKeeperOptions.CONNECTION_TIMEOUT.name(), "3s");
            assertThatThrownBy(() -> ZkTestSupport.open(elsewhere.connectString(), ZkTestSupport.freshChroot("tls-default-trust"), refused).close())
                    .isInstanceOf(RegistryUnavailableException.class).hasMessageContaining("TLS handshake refused by " + elsewhere.connectString());
            // positive control: the JDK's trust store as set trusts the CA, and the name in the certificate is accepted
            try (ClusterRegistry r = ZkTestSupport.open(secure(), ZkTestSupport.freshChroot("tls-default-trust"), options)) {
                writeAndReadBack(r, "default-trust", new byte[] {7});
            }
        } finally {
            System.setProperties(saved);
        }
    }

    @Test
    void tlsToThePlaintextPortIsNamed() {
        Map<String, String> options = tls(alice);
        options.put(ZooKeeperOptions.CONNECTION_TIMEOUT.name(), REFUSED_WITHIN);
        assertThatThrownBy(() -> ZkTestSupport.open(server.connectString(), ZkTestSupport.freshChroot("tls-plain-port"), options).close())
                .isInstanceOf(RegistryUnavailableException.class)
                .hasMessageContaining("TLS handshake refused by " + server.connectString())
                .hasMessageContaining("is this the servers' secureClientPort?");
    }

    @Test
    void theTrafficIsNotReadableOnTheWireAndWithoutTlsItIs() throws Exception {
        byte[] marker = ("plaintext-marker-" + UUID.randomUUID()).getBytes(StandardCharsets.US_ASCII);
        try (CuttingProxy wire = new CuttingProxy(securePort)) {
            wire.capture();
            try (ClusterRegistry r = ZkTestSupport.open(wire.connectString(), ZkTestSupport.freshChroot("tls-wire"), tls(alice))) {
                writeAndReadBack(r, "secret", marker);
            }
            assertThat(wire.captured().length).isGreaterThan(2 * marker.length);
            assertThat(indexOf(wire.captured(), marker)).as("marker in the TLS capture").isEqualTo(-1);
        }
        // positive control: the same server, writes and capture without TLS
        try (CuttingProxy wire = new CuttingProxy(Integer.parseInt(server.connectString().split(":")[1]))) {
            wire.capture();
            try (ClusterRegistry r = ZkTestSupport.open(wire.connectString(), ZkTestSupport.freshChroot("plain-wire"))) {
                writeAndReadBack(r, "secret", marker);
            }
            assertThat(indexOf(wire.captured(), marker)).as("marker in the plaintext capture").isNotEqualTo(-1);
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void requireTlsRefusesAPlaintextConfiguration() {
        assertThatThrownBy(() -> ZkTestSupport.open(server.connectString(), ZkTestSupport.freshChroot("plain"),
                ZooKeeperOptions.REQUIRE_TLS.name(), "true"))
                .isInstanceOf(RegistryArgumentException.class)
                .hasMessageContaining("requireTls=true")
                .hasMessageContaining("set tls=true");
    }

    @Test
    void aWrongStorePasswordIsNamedNeverShown() throws Exception {
        Path wrong = Files.writeString(dir.resolve("wrong-password"), "not-" + STORE_PASSWORD);
        Map<String, String> options = tls(alice);
        options.put(ZooKeeperOptions.TLS_KEY_STORE_PASSWORD.name(), "file:" + wrong);
        assertThatThrownBy(() -> ZkTestSupport.open(secure(), ZkTestSupport.freshChroot("tls-pw"), options))
                .isInstanceOf(RegistryArgumentException.class)
                .hasMessageContaining("tlsKeyStorePassword")
                .hasMessageNotContaining(STORE_PASSWORD);
    }

    /**
     * The ensemble moves to certificates of a new CA while the application runs: its trust store file is
     * replaced (old and new CA), then the server's key store; after the connection breaks, the same
     * registry reconnects through the new server certificate, which it can only accept if it read its
     * trust store again. A client still holding the old trust store is refused, so the server did switch.
     */
    @Test
    void storesAreReadAgainForEveryConnection(@TempDir Path home) throws Exception {
        TestPki.Issued newCa = TestPki.ca("Next year's CA");
        Path rotatingTrust = TestPki.trustStore(home.resolve("trust.p12"), STORE_PASSWORD, ca);
        int port = ZooKeeperServerProcess.freePort();
        try (ZooKeeperServerProcess own = startServer(home.resolve("server"), port, TestPki.server(ca, "zookeeper", "localhost", "127.0.0.1"), ca);
                CuttingProxy link = new CuttingProxy(port)) {
            Map<String, String> options = tls(alice, ZooKeeperOptions.TLS_TRUST_STORE.name(), rotatingTrust.toString());
            String chroot = ZkTestSupport.freshChroot("tls-rotate");
            try (ClusterRegistry r = ZkTestSupport.open(link.connectString(), chroot, options)) {
                writeAndReadBack(r, "before", new byte[] {1});

                TestPki.trustStore(rotatingTrust, STORE_PASSWORD, ca, newCa);
                TestPki.keyStore(home.resolve("server").resolve("server.p12"), TestPki.server(newCa, "zookeeper", "localhost", "127.0.0.1"),
                        STORE_PASSWORD);
                link.refuse(true);
                link.refuse(false);

                writeAndReadBack(r, "after", new byte[] {2});
            }
            Map<String, String> stale = tls(alice);
            stale.put(ZooKeeperOptions.CONNECTION_TIMEOUT.name(), REFUSED_WITHIN);
            assertThatThrownBy(() -> ZkTestSupport.open(link.connectString(), chroot, stale).close())
                    .isInstanceOf(RegistryUnavailableException.class)
                    .hasMessageContaining("the server's certificate is not trusted (option tlsTrustStore)");
        }
    }
}
