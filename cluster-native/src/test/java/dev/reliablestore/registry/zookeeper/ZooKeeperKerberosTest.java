package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosPrincipal;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * SASL/GSSAPI (Kerberos) authentication to a real ZooKeeper server that requires it of every session,
 * with tickets from a real KDC ({@link KerberosTestKdc}): one KDC and one server for the class. Every
 * refusal has its positive control, the right principal reading and writing.
 */
@SuppressWarnings("try") // plain ZooKeeper handles as resources: their close() may throw InterruptedException, which the tests declare
class ZooKeeperKerberosTest {

    static {
        ZkTestSupport.init();
    }

    private static final RegistryPath KEY = RegistryPath.of("Entities", "Customer");
    static final String ALICE = "alice@" + KerberosTestKdc.REALM;
    static final String BOB = "bob@" + KerberosTestKdc.REALM;
    private static final String MALLORY = "mallory@" + KerberosTestKdc.REALM;
    private static final String EVE = "eve@" + KerberosTestKdc.REALM;
    private static final String CAROL = "carol@" + KerberosTestKdc.REALM;

    @TempDir
    static Path dir;

    private static KerberosTestKdc kdc;
    private static Path alice;
    private static Path bob;
    private static Path mallory;
    private static Path eve;
    private static Path carol;

    @BeforeAll
    static void start() throws Exception {
        // short tickets only for the soak test: they must expire while it runs
        kdc = new KerberosTestKdc(dir, Boolean.getBoolean("reliablestore.soak") ? Duration.ofSeconds(90) : null);
        alice = kdc.principal("alice");
        bob = kdc.principal("bob");
        mallory = kdc.principal("mallory");
        eve = kdc.principal("eve");
        kdc.expire("eve");
        carol = kdc.principal("carol");
        kdc.startServer();
    }

    @AfterAll
    static void stop() throws Exception {
        if (kdc != null) {
            kdc.close();
        }
    }

    static Map<String, String> kerberos(String principal, Path keytab, String... more) {
        String[] kv = new String[6 + more.length];
        kv[0] = ZooKeeperOptions.KERBEROS_PRINCIPAL.name();
        kv[1] = principal;
        kv[2] = ZooKeeperOptions.KERBEROS_KEYTAB.name();
        kv[3] = keytab.toString();
        kv[4] = ZooKeeperOptions.REQUIRE_KERBEROS.name();
        kv[5] = "true";
        System.arraycopy(more, 0, kv, 6, more.length);
        Map<String, String> m = ZkTestSupport.options(kv);
        if (!contains(more, ZooKeeperOptions.ACL.name())) {
            m.put(ZooKeeperOptions.ACL.name(), ZooKeeperOptions.ACL_SASL);
        }
        return m;
    }

    private static boolean contains(String[] kv, String key) {
        for (int i = 0; i < kv.length; i += 2) {
            if (kv[i].equals(key)) {
                return true;
            }
        }
        return false;
    }

    private static void writeAndReadBack(ClusterRegistry r, String name, String value) {
        r.commit(WriteBatch.builder().setValue(KEY, name, RegistryValue.sz(value)).build());
        assertThat(r.getValue(KEY, name)).hasValueSatisfying(v -> assertThat(v.value()).isEqualTo(RegistryValue.sz(value)));
    }

    /** A plain ZooKeeper handle configured exactly as the registry configures its own. */
    private static ZooKeeper handle(String chroot, Map<String, String> options) throws Exception {
        ZooKeeperOptions o = ZooKeeperOptions.parse(URI.create("zookeeper://" + kdc.connectString() + chroot), options);
        ZooKeeper zk = new ZooKeeper(o.connectString(), o.sessionTimeoutMs(), e -> { }, ZooKeeperRegistry.clientConfig(o));
        await().atMost(Duration.ofSeconds(10)).until(() -> zk.getState().isConnected());
        return zk;
    }

    @Test
    void theRightPrincipalReadsAndWritesAndTheChrootCarriesItsSaslAclWithTheReadOnlyPrincipal() throws Exception {
        String chroot = ZkTestSupport.freshChroot("krb");
        Map<String, String> options = kerberos(ALICE, alice, ZooKeeperOptions.KERBEROS_READ_ONLY_PRINCIPALS.name(), BOB);
        try (ClusterRegistry r = ZkTestSupport.open(kdc.connectString(), chroot, options)) {
            writeAndReadBack(r, "C-1", "alice was here");
        }
        try (ClusterRegistry r = ZkTestSupport.open(kdc.connectString(), chroot, options)) {
            assertThat(r.getValue(KEY, "C-1")).hasValueSatisfying(v -> assertThat(v.value()).isEqualTo(RegistryValue.sz("alice was here")));
        }
        try (ZooKeeper zk = handle(chroot, options)) {
            assertThat(zk.getACL(chroot, null)).containsExactlyInAnyOrder(new ACL(ZooDefs.Perms.ALL, new Id("sasl", ALICE)),
                    new ACL(ZooDefs.Perms.READ, new Id("sasl", BOB)));
            assertThat(new String(zk.getData(chroot + "/acl-verified", false, null), StandardCharsets.UTF_8))
                    .contains("scheme=sasl").contains("identity=" + ALICE);
        }
    }

    @Test
    void aReadOnlyPrincipalReadsButCannotWriteOrOpenTheRegistry() throws Exception {
        String chroot = ZkTestSupport.freshChroot("krb-ro");
        try (ClusterRegistry r = ZkTestSupport.open(kdc.connectString(), chroot,
                kerberos(ALICE, alice, ZooKeeperOptions.KERBEROS_READ_ONLY_PRINCIPALS.name(), BOB))) {
            writeAndReadBack(r, "C-1", "for bob's eyes");
        }
        // bob as a ZooKeeper-level reader (a backup or monitoring tool): reads, every write is refused
        try (ZooKeeper zk = handle(chroot, kerberos(BOB, bob, ZooKeeperOptions.ACL.name(), ZooKeeperOptions.ACL_OPEN))) {
            assertThat(zk.getChildren(chroot + "/data", false)).isNotEmpty();
            assertThatThrownBy(() -> zk.setData(chroot + "/acl-verified", new byte[0], -1)).isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> zk.create(chroot + "/data/x", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, org.apache.zookeeper.CreateMode.PERSISTENT))
                    .isInstanceOf(KeeperException.NoAuthException.class);
        }
        // bob opening the registry (which writes) is refused, naming him and the option
        assertThatThrownBy(() -> ZkTestSupport.open(kdc.connectString(), chroot, kerberos(BOB, bob)).close())
                .isInstanceOf(RegistryException.class).hasMessageContaining(BOB).hasMessageContaining("kerberosPrincipal");
    }

    @Test
    void aWrongPrincipalIsRefusedByTheSaslAcl() {
        String chroot = ZkTestSupport.freshChroot("krb-wrong");
        try (ClusterRegistry r = ZkTestSupport.open(kdc.connectString(), chroot, kerberos(ALICE, alice))) {
            writeAndReadBack(r, "C-1", "alice's");
        }
        assertThatThrownBy(() -> ZkTestSupport.open(kdc.connectString(), chroot, kerberos(MALLORY, mallory)).close())
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("does not accept the Kerberos principal of option kerberosPrincipal (" + MALLORY + ")");
    }

    @Test
    void noCredentialsAreRefusedByTheServer() {
        String chroot = ZkTestSupport.freshChroot("krb-none");
        assertThatThrownBy(() -> ZkTestSupport.open(kdc.connectString(), chroot, ZkTestSupport.options(
                ZooKeeperOptions.CONNECTION_TIMEOUT.name(), "2s")).close())
                .isInstanceOf(ZooKeeperAuthenticationException.class)
                .hasMessageContaining("require SASL authentication").hasMessageContaining("set kerberosPrincipal and kerberosKeytab");
    }

    @Test
    void aKeytabWithoutThePrincipalsKeyIsRefusedAtLoginNamingBoth() {
        String chroot = ZkTestSupport.freshChroot("krb-keytab");
        assertThatThrownBy(() -> ZkTestSupport.open(kdc.connectString(), chroot, kerberos(ALICE, mallory)).close())
                .isInstanceOfSatisfying(ZooKeeperAuthenticationException.class, e -> assertThat(e.principal()).isEqualTo(ALICE))
                .hasMessageContaining("kerberosPrincipal=" + ALICE).hasMessageContaining("kerberosKeytab=" + mallory);
    }

    @Test
    void anExpiredPrincipalIsRefusedAtLogin() {
        String chroot = ZkTestSupport.freshChroot("krb-expired");
        assertThatThrownBy(() -> ZkTestSupport.open(kdc.connectString(), chroot, kerberos(EVE, eve)).close())
                .isInstanceOfSatisfying(ZooKeeperAuthenticationException.class, e -> assertThat(e.principal()).isEqualTo(EVE))
                .hasMessageContaining("Kerberos login of option kerberosPrincipal=" + EVE);
    }

    @Test
    void requireKerberosRefusesAConfigurationWithoutIt() {
        assertThatThrownBy(() -> ZooKeeperOptions.parse(URI.create("zookeeper://localhost:2181/app"),
                Map.of(ZooKeeperOptions.REQUIRE_KERBEROS.name(), "true", ZooKeeperOptions.ACL.name(), "open")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("option requireKerberos=true refuses to open");
        assertThatThrownBy(() -> ZooKeeperOptions.parse(URI.create("zookeeper://localhost:2181/app"),
                Map.of(ZooKeeperOptions.KERBEROS_PRINCIPAL.name(), ALICE)))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("needs kerberosKeytab");
        assertThatThrownBy(() -> ZooKeeperOptions.parse(URI.create("zookeeper://localhost:2181/app"),
                Map.of(ZooKeeperOptions.KERBEROS_PRINCIPAL.name(), "alice", ZooKeeperOptions.KERBEROS_KEYTAB.name(), alice.toString())))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("not a Kerberos principal");
        assertThatThrownBy(() -> ZooKeeperOptions.parse(URI.create("zookeeper://localhost:2181/app"),
                Map.of(ZooKeeperOptions.ACL.name(), "sasl", ZooKeeperOptions.DIGEST.name(), "env:PATH")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("acl=sasl needs kerberosPrincipal");
    }

    @Test
    void zkSecureMovesADigestChrootToSasl() throws Exception {
        String chroot = ZkTestSupport.freshChroot("krb-move");
        Path secret = Files.writeString(dir.resolve("digest-" + chroot.substring(1)), "app:app-secret");
        String digestRef = "file:" + secret;
        // a store protected by digest (its sessions authenticate with Kerberos too: the server requires it of everyone)
        try (ClusterRegistry r = ZkTestSupport.open(kdc.connectString(), chroot, kerberos(ALICE, alice,
                ZooKeeperOptions.ACL.name(), ZooKeeperOptions.ACL_DIGEST, ZooKeeperOptions.DIGEST.name(), digestRef))) {
            writeAndReadBack(r, "C-1", "under digest");
        }
        // alice's principal has no permission on it yet; the message says how to move it
        assertThatThrownBy(() -> ZkTestSupport.open(kdc.connectString(), chroot, kerberos(ALICE, alice)).close())
                .isInstanceOf(RegistryException.class).hasMessageContaining(ALICE).hasMessageContaining("zk secure")
                .hasMessageContaining("--registry-secret-env digest=VAR").hasMessageNotContaining("app-secret");
        URI uri = URI.create("zookeeper://" + kdc.connectString() + chroot);
        Map<String, String> moving = kerberos(ALICE, alice, ZooKeeperOptions.KERBEROS_READ_ONLY_PRINCIPALS.name(), BOB);
        moving.put(ZooKeeperOptions.DIGEST.name(), digestRef);
        ZooKeeperSecure.Result result = ZooKeeperSecure.secure(uri, moving, false);
        assertThat(result.changed()).isPositive();
        assertThat(result.acl()).contains("sasl:" + ALICE + " cdrwa").contains("sasl:" + BOB + " r");
        assertThat(result.toString()).doesNotContain("app-secret");
        try (ClusterRegistry r = ZkTestSupport.open(kdc.connectString(), chroot,
                kerberos(ALICE, alice, ZooKeeperOptions.KERBEROS_READ_ONLY_PRINCIPALS.name(), BOB))) {
            assertThat(r.getValue(KEY, "C-1")).hasValueSatisfying(v -> assertThat(v.value()).isEqualTo(RegistryValue.sz("under digest")));
            writeAndReadBack(r, "C-2", "under sasl");
        }
        // the old credentials alone no longer pass
        assertThatThrownBy(() -> ZkTestSupport.open(kdc.connectString(), chroot, kerberos(MALLORY, mallory,
                ZooKeeperOptions.ACL.name(), ZooKeeperOptions.ACL_DIGEST, ZooKeeperOptions.DIGEST.name(), digestRef)).close())
                .isInstanceOf(RegistryException.class);
        // a second pass changes nothing
        assertThat(ZooKeeperSecure.secure(uri, kerberos(ALICE, alice, ZooKeeperOptions.KERBEROS_READ_ONLY_PRINCIPALS.name(), BOB), true).changed())
                .isZero();
    }

    /**
     * The registry's sections join a JAAS configuration the application already has (a file named by
     * java.security.auth.login.config): both its sections and the registry's log in.
     */
    @Test
    void theRegistrysSectionsChainToTheApplicationsOwnJaasConfiguration() throws Exception {
        Path userJaas = Files.writeString(dir.resolve("user-jaas.conf"), "UserApp {\n"
                + "  com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true useTicketCache=false doNotPrompt=true\n"
                + "  keyTab=\"" + carol + "\" principal=\"" + CAROL + "\";\n};\n");
        String before = System.getProperty("java.security.auth.login.config");
        Configuration installed = Configuration.getConfiguration();
        System.setProperty("java.security.auth.login.config", userJaas.toString());
        try {
            Configuration.setConfiguration(null); // the JDK's default configuration again, now reading the user's file
            assertThat(Configuration.getConfiguration().getAppConfigurationEntry("UserApp")).isNotNull();
            String chroot = ZkTestSupport.freshChroot("krb-chain");
            try (ClusterRegistry r = ZkTestSupport.open(kdc.connectString(), chroot, kerberos(ALICE, alice))) {
                writeAndReadBack(r, "C-1", "beside a user's JAAS file");
                assertThat(Configuration.getConfiguration()).isInstanceOf(KerberosJaas.Chaining.class);
                Subject subject = new Subject();
                LoginContext login = new LoginContext("UserApp", subject);
                login.login();
                assertThat(subject.getPrincipals(KerberosPrincipal.class)).extracting(KerberosPrincipal::getName).containsExactly(CAROL);
                login.logout();
            }
            // an application replacing the configuration afterwards: the next open chains on top of it again
            Configuration.setConfiguration(null);
            try (ClusterRegistry r = ZkTestSupport.open(kdc.connectString(), ZkTestSupport.freshChroot("krb-chain"), kerberos(ALICE, alice))) {
                writeAndReadBack(r, "C-1", "again");
                assertThat(Configuration.getConfiguration().getAppConfigurationEntry("UserApp")).isNotNull();
            }
        } finally {
            if (before == null) {
                System.clearProperty("java.security.auth.login.config");
            } else {
                System.setProperty("java.security.auth.login.config", before);
            }
            Configuration.setConfiguration(installed);
        }
    }

    /**
     * Tickets expire and are renewed while the registry runs: the KDC issues 90-second tickets and the
     * registry writes for five minutes; every 15 s its socket is closed, so the same ZooKeeper handle
     * (the same login, which ZooKeeper's client re-logs in at most once a minute, hence the length)
     * reconnects with a new SASL handshake that needs a current ticket. Only with -Dreliablestore.soak=true
     * (-Dreliablestore.soak.kerberos.minutes=N).
     */
    @Test
    @EnabledIfSystemProperty(named = "reliablestore.soak", matches = "true")
    void ticketsAreRenewedWhileTheRegistryRuns() throws Exception {
        String chroot = ZkTestSupport.freshChroot("krb-soak");
        long minutes = Long.getLong("reliablestore.soak.kerberos.minutes", 5);
        try (ZooKeeperRegistry r = ZkTestSupport.open(kdc.connectString(), chroot, kerberos(ALICE, alice))) {
            long sessionId = r.curator().getZookeeperClient().getZooKeeper().getSessionId();
            long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
            long nextCut = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            int n = 0;
            int cuts = 0;
            while (System.nanoTime() < end) {
                writeAndReadBack(r, "C-" + n % 10, "write " + n++);
                if (System.nanoTime() > nextCut) {
                    r.curator().getZookeeperClient().getZooKeeper().getTestable().closeSocket();
                    cuts++;
                    nextCut = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                }
            }
            // the same session throughout: every reconnection authenticated with the renewed login
            assertThat(r.curator().getZookeeperClient().getZooKeeper().getSessionId()).isEqualTo(sessionId);
            assertThat(cuts).isGreaterThanOrEqualTo((int) (minutes * 3));
        }
    }
}
