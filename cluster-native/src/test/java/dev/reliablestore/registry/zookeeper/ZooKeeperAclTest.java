package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The chroot's ACL is checked at open and repaired by {@link ZooKeeperSecure}: a store written
 * without credentials and later opened with them, a chroot a foreign client created open first, a
 * store without the ACL-verified marker. The attacker is a plain ZooKeeper client without
 * credentials; every refusal has its positive control with the right credentials.
 */
@SuppressWarnings("try") // plain ZooKeeper handles as resources: their close() may throw InterruptedException, which the tests declare
class ZooKeeperAclTest {

    static {
        ZkTestSupport.init();
    }

    private static final String DIGEST = "alice:alice-secret";
    private static final String OPEN_ACL = "[world:anyone cdrwa]";
    private static final String DIGEST_ACL = "[digest:alice cdrwa]";

    private static TestingServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new TestingServer(true);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    /** A plain ZooKeeper client, connected, with the digest credentials or none. */
    private static ZooKeeper plain(String digest) throws Exception {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
        ZooKeeper zk = new ZooKeeper(server.getConnectString(), 10_000, event -> { }, config);
        await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10)).until(() -> zk.getState().isConnected());
        if (digest != null) {
            zk.addAuthInfo("digest", digest.getBytes(StandardCharsets.UTF_8));
        }
        return zk;
    }

    private static URI uri(String chroot) {
        return URI.create("zookeeper://" + server.getConnectString() + chroot);
    }

    private static ZooKeeperSecure.Result secure(String chroot, boolean dryRun) {
        return ZooKeeperSecure.secure(uri(chroot), Map.of("digest", DIGEST), dryRun);
    }

    private static void assertClosed(ZooKeeper anonymous, String... znodes) {
        for (String z : znodes) {
            assertThatThrownBy(() -> anonymous.getData(z, false, null)).as("getData %s", z).isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> anonymous.setData(z, new byte[] {1}, -1)).as("setData %s", z).isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> anonymous.getChildren(z, false)).as("getChildren %s", z).isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> anonymous.create(z + "/intruder", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))
                    .as("create under %s", z).isInstanceOf(KeeperException.NoAuthException.class);
        }
    }

    /** The positive control of {@link #assertClosed}: the same calls pass with the credentials (and leave the data as it was). */
    private static void assertUsable(ZooKeeper alice, String... znodes) throws Exception {
        for (String z : znodes) {
            byte[] data = alice.getData(z, false, null);
            alice.setData(z, data, -1);
            alice.getChildren(z, false);
            alice.create(z + "/probe", new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            alice.delete(z + "/probe", -1);
        }
    }

    @Test
    void aStoreWrittenWithoutCredentialsIsRefusedWithThemUntilZkSecureProtectsEveryZnode() throws Exception {
        String chroot = ZkTestSupport.freshChroot("upgrade");
        RegistryPath customers = RegistryPath.of("Entities", "Customer");
        try (ClusterRegistry insecure = ZkTestSupport.open(server.getConnectString(), chroot, "acl", "open")) {
            insecure.commit(WriteBatch.builder().setValue(customers, "C-1", RegistryValue.sz("card 4111-1111")).build());
        }
        String entity = chroot + "/data/Entities/Customer/=C-1";
        String marker = chroot + "/" + AclGuard.MARKER;
        try (ZooKeeper anonymous = plain(null)) {
            // the hole: anyone reads the entity as plaintext
            assertThat(new String(anonymous.getData(entity, false, null), StandardCharsets.UTF_16LE)).contains("card 4111-1111");
        }

        String digestId = DigestAuthenticationProvider.generateDigest(DIGEST);
        assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST))
                .isInstanceOfSatisfying(ZooKeeperAclException.class, e -> {
                    assertThat(e.znode()).isEqualTo(chroot);
                    assertThat(e.actualAcl()).isEqualTo(OPEN_ACL);
                    assertThat(e.expectedAcl()).isEqualTo(DIGEST_ACL);
                })
                .hasMessageContaining("znode " + chroot + " has ACL " + OPEN_ACL + ", expected exactly " + DIGEST_ACL)
                .hasMessageContaining("reliablestore zk secure --store zookeeper://" + server.getConnectString() + chroot)
                .hasMessageNotContaining("alice-secret").hasMessageNotContaining(digestId.substring(digestId.indexOf(':') + 1));

        // a dry run reports every open znode and changes nothing
        ZooKeeperSecure.Result dry = secure(chroot, true);
        assertThat(dry.passes()).hasSize(1);
        int znodes = dry.passes().get(0).checked();
        assertThat(dry.passes().get(0).changed()).isEqualTo(znodes).isGreaterThan(10);
        assertThat(dry.markerWritten()).isFalse();
        assertThat(dry.changes()).extracting(ZooKeeperSecure.Change::znode).contains(chroot, entity);
        assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST)).isInstanceOf(ZooKeeperAclException.class);

        ZooKeeperSecure.Result secured = secure(chroot, false);
        assertThat(secured.passes()).containsExactly(new ZooKeeperSecure.Pass(znodes, znodes), new ZooKeeperSecure.Pass(znodes, 0));
        assertThat(secured.changes()).allSatisfy(c -> assertThat(c.acl()).isEqualTo(OPEN_ACL));
        assertThat(secured.markerWritten()).isTrue();
        assertThat(secured.marker()).isEqualTo(marker);
        assertThat(secured.acl()).isEqualTo(DIGEST_ACL);

        try (ClusterRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST)) {
            assertThat(r.getValue(customers, "C-1").orElseThrow().value().asSz()).isEqualTo("card 4111-1111");
        }
        try (ZooKeeper anonymous = plain(null); ZooKeeper alice = plain(DIGEST)) {
            assertClosed(anonymous, chroot, entity, marker);
            assertUsable(alice, chroot, entity, marker);
        }
        // without credentials (acl=open) the protected store no longer opens
        assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), chroot, "acl", "open")).hasMessageContaining("not authorized");
    }

    /**
     * The connection is lost right after the first ACL was set: the pass is retried, and its report
     * still counts and lists that znode (the attempt that finishes finds its ACL right already).
     */
    @Test
    void aPassRetriedAfterALostConnectionReportsTheAclsItsFailedAttemptSet() throws Exception {
        String chroot = ZkTestSupport.freshChroot("lost");
        try (ClusterRegistry insecure = ZkTestSupport.open(server.getConnectString(), chroot, "acl", "open")) {
            WriteBatch.Builder b = WriteBatch.builder();
            for (int i = 0; i < 20; i++) {
                b.setValue(RegistryPath.of("Entities", "Customer"), "C-" + i, RegistryValue.sz("v" + i));
            }
            insecure.commit(b.build());
        }
        int znodes = secure(chroot, true).passes().get(0).checked();
        java.util.concurrent.atomic.AtomicInteger lost = new java.util.concurrent.atomic.AtomicInteger();
        ZooKeeperSecure.Result secured = ZooKeeperSecure.secure(uri(chroot), Map.of("digest", DIGEST), false, zk -> {
            if (lost.getAndIncrement() == 0) {
                try {
                    zk.getTestable().closeSocket();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                // what the walk's next answer says once the socket is gone, here at once
                throw new java.util.concurrent.CompletionException(new KeeperException.ConnectionLossException());
            }
        });
        assertThat(lost.get()).as("ACLs set").isEqualTo(znodes);
        assertThat(secured.passes()).containsExactly(new ZooKeeperSecure.Pass(znodes, znodes), new ZooKeeperSecure.Pass(znodes, 0));
        assertThat(secured.changes()).hasSize(znodes).extracting(ZooKeeperSecure.Change::znode).doesNotHaveDuplicates()
                .contains(chroot + "/data/Entities/Customer/=C-0");
        try (ZooKeeper anonymous = plain(null)) {
            assertClosed(anonymous, chroot, chroot + "/data/Entities/Customer/=C-19");
        }
    }

    @Test
    void aChrootAForeignClientCreatedOpenFirstIsRefusedUntilSecured() throws Exception {
        String chroot = ZkTestSupport.freshChroot("squat");
        try (ZooKeeper squatter = plain(null)) {
            squatter.create(chroot, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            squatter.create(chroot + "/planted", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST))
                .isInstanceOfSatisfying(ZooKeeperAclException.class, e -> {
                    assertThat(e.znode()).isEqualTo(chroot);
                    assertThat(e.actualAcl()).isEqualTo(OPEN_ACL);
                });
        try (ZooKeeper anonymous = plain(null)) {
            // positive control of the attack: until secured, an unauthenticated client lists and creates under the chroot
            anonymous.create(chroot + "/another", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertThat(anonymous.getChildren(chroot, false)).contains("planted", "another", "data");
        }

        ZooKeeperSecure.Result secured = secure(chroot, false);
        assertThat(secured.changes()).extracting(ZooKeeperSecure.Change::znode).containsExactlyInAnyOrder(chroot, chroot + "/planted", chroot + "/another");
        assertThat(secured.passes().get(secured.passes().size() - 1).changed()).isZero();
        try (ClusterRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST)) {
            r.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(1)).build());
        }
        try (ZooKeeper anonymous = plain(null); ZooKeeper alice = plain(DIGEST)) {
            assertClosed(anonymous, chroot, chroot + "/planted", chroot + "/data/k/=v", chroot + "/" + AclGuard.MARKER);
            assertUsable(alice, chroot, chroot + "/planted", chroot + "/data/k/=v", chroot + "/" + AclGuard.MARKER);
        }
    }

    @Test
    void aZnodeTheConfiguredIdentityCannotAdministerMakesZkSecureFailNamingIt() throws Exception {
        String chroot = ZkTestSupport.freshChroot("foreign");
        try (ZooKeeper mallory = plain("mallory:mallory-secret")) {
            mallory.create(chroot, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            mallory.create(chroot + "/mine", new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        }
        assertThatThrownBy(() -> secure(chroot, false))
                .isInstanceOfSatisfying(ZooKeeperAclException.class, e -> assertThat(e.znode()).isEqualTo(chroot + "/mine"))
                .hasMessageContaining("not authorized to read the ACL of " + chroot + "/mine").hasMessageNotContaining("mallory-secret");
        assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST)).isInstanceOf(ZooKeeperAclException.class);
        // positive control: without that znode (deleting needs DELETE on the parent, which the first pass gave alice) it secures and opens
        try (ZooKeeper alice = plain(DIGEST)) {
            alice.delete(chroot + "/mine", -1);
        }
        assertThat(secure(chroot, false).markerWritten()).isTrue();
        assertThatCode(() -> ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST).close()).doesNotThrowAnyException();
    }

    @Test
    void aStoreWithEntitiesButNoMarkerIsRefusedUntilVerifiedAndTheMarkerRecordsTheIdentity() throws Exception {
        String chroot = ZkTestSupport.freshChroot("marker");
        String marker = chroot + "/" + AclGuard.MARKER;
        // a fresh chroot gets its marker at once
        try (ClusterRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST)) {
            r.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(1)).build());
        }
        try (ZooKeeper alice = plain(DIGEST)) {
            assertThat(new String(alice.getData(marker, false, null), StandardCharsets.UTF_8)).contains("scheme=digest\nidentity=alice\n");
            assertThat(alice.getChildren(marker, false)).containsExactly(AclGuard.OWNER);
            alice.delete(marker + "/" + AclGuard.OWNER, -1);
            alice.delete(marker, -1); // as a store protected by an earlier version has none
        }
        assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST))
                .isInstanceOfSatisfying(ZooKeeperAclException.class, e -> assertThat(e.znode()).isEqualTo(marker))
                .hasMessageContaining("has no ACL-verified marker").hasMessageContaining("zk secure");
        ZooKeeperSecure.Result verified = secure(chroot, false);
        assertThat(verified.passes()).hasSize(1);
        assertThat(verified.changed()).isZero();
        assertThatCode(() -> ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST).close()).doesNotThrowAnyException();

        // a marker recording another identity is refused too
        try (ZooKeeper alice = plain(DIGEST)) {
            alice.setData(marker, "format=1\nscheme=digest\nidentity=bob\n".getBytes(StandardCharsets.UTF_8), -1);
        }
        assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST))
                .isInstanceOf(ZooKeeperAclException.class).hasMessageContaining("records digest:bob, not the configured digest:alice");
        assertThat(secure(chroot, true).markerStood()).isFalse();
    }

    /**
     * The squatter writes a store open, plants the marker with alice's ACL and record, then narrows
     * the ACLs of the znodes an open checks. With {@code sasl} or {@code x509} the id in the ACL is a
     * public name; here the squatter is simply given alice's digest id. Planted with alice's ACL, the
     * marker can get no child; planted open with a child (and a grandchild) and then narrowed, its ACL
     * version tells. Either way only the proof of who created it is missing.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aMarkerPlantedByAClientWithoutTheCredentialsDoesNotStandForTheSubtree(boolean withChildren) throws Exception {
        String chroot = ZkTestSupport.freshChroot("forged");
        String marker = chroot + "/" + AclGuard.MARKER;
        String entity = chroot + "/data/k/=v";
        try (ClusterRegistry open = ZkTestSupport.open(server.getConnectString(), chroot, "acl", "open")) {
            open.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.sz("planted")).build());
        }
        // not List.of: ZooKeeper asks the list contains(null)
        List<ACL> alices = Collections.singletonList(new ACL(ZooDefs.Perms.ALL, new Id("digest", DigestAuthenticationProvider.generateDigest(DIGEST))));
        byte[] record = "format=2\nscheme=digest\nidentity=alice\n".getBytes(StandardCharsets.UTF_8);
        try (ZooKeeper squatter = plain(null)) {
            List<String> narrowed = new ArrayList<>(AclGuard.fixedZnodes(new ZnodeLayout(chroot)));
            if (withChildren) {
                squatter.create(marker, record, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                squatter.create(marker + "/" + AclGuard.OWNER, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                squatter.create(marker + "/" + AclGuard.OWNER + "/deeper", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                narrowed.add(marker);
            } else {
                squatter.create(marker, record, alices, CreateMode.PERSISTENT);
                assertThatThrownBy(() -> squatter.create(marker + "/" + AclGuard.OWNER, new byte[0], alices, CreateMode.PERSISTENT))
                        .isInstanceOf(KeeperException.NoAuthException.class);
            }
            Collections.reverse(narrowed); // children first: once a parent is narrowed the squatter cannot reach below it
            for (String z : narrowed) {
                squatter.setACL(z, alices, -1);
            }
        }
        assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST))
                .isInstanceOfSatisfying(ZooKeeperAclException.class, e -> assertThat(e.znode()).isEqualTo(marker))
                .hasMessageContaining("does not prove who wrote it").hasMessageContaining("zk secure");
        try (ZooKeeper anonymous = plain(null)) {
            // what the refusal protects: the entity the squatter left open
            anonymous.setData(entity, anonymous.getData(entity, false, null), -1);
        }
        assertThat(secure(chroot, true).markerStood()).isFalse();

        ZooKeeperSecure.Result secured = secure(chroot, false);
        assertThat(secured.markerStood()).isFalse();
        assertThat(secured.changes()).extracting(ZooKeeperSecure.Change::znode).contains(entity).doesNotContain(marker);
        ZooKeeperSecure.Result after = secure(chroot, true);
        assertThat(after.markerStood()).isTrue();
        assertThat(after.changed()).isZero();
        try (ClusterRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST)) {
            assertThat(r.getValue(RegistryPath.of("k"), "v").orElseThrow().value().asSz()).isEqualTo("planted");
        }
        try (ZooKeeper anonymous = plain(null); ZooKeeper alice = plain(DIGEST)) {
            assertClosed(anonymous, chroot, entity, marker);
            assertThat(alice.getChildren(marker, false)).containsExactly(AclGuard.OWNER);
            assertThat(alice.getChildren(marker + "/" + AclGuard.OWNER, false)).isEmpty();
            assertThat(new String(alice.getData(marker, false, null), StandardCharsets.UTF_8)).contains("verifiedBy=zk secure");
        }
    }

    @Test
    void anUnprotectedStoreIsAnExplicitChoice() {
        assertThatThrownBy(() -> new ZooKeeperRegistryBackend().open(uri("/no-credentials"), Map.of()))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("digest=user:password").hasMessageContaining("acl=open");
        assertThatThrownBy(() -> new ZooKeeperRegistryBackend().open(uri("/both"), Map.of("acl", "open", "digest", DIGEST)))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("contradict").hasMessageNotContaining("alice-secret");
        assertThatThrownBy(() -> new ZooKeeperRegistryBackend().open(uri("/digest-without"), Map.of("acl", "digest")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("needs the digest option");
        assertThatThrownBy(() -> new ZooKeeperRegistryBackend().open(uri("/sasl"), Map.of("acl", "sasl")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("acl=sasl needs kerberosPrincipal and kerberosKeytab");
        assertThatThrownBy(() -> new ZooKeeperRegistryBackend().open(uri("/kerberos"), Map.of("acl", "kerberos")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("digest, sasl, x509 or open");
        assertThatThrownBy(() -> new ZooKeeperRegistryBackend().open(uri("/x509-without"), Map.of("acl", "x509")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("acl=x509 needs tls=true and tlsKeyStore");
        assertThatThrownBy(() -> new ZooKeeperRegistryBackend().open(uri("/x509-digest"), Map.of("acl", "x509", "digest", DIGEST)))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("contradict").hasMessageNotContaining("alice-secret");
        assertThatThrownBy(() -> ZooKeeperSecure.secure(uri("/open"), Map.of("acl", "open"), false))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("acl=open");
        // positive control: with acl=open it opens
        assertThatCode(() -> new ZooKeeperRegistryBackend().open(uri("/explicitly-open"), Map.of("acl", "open")).close()).doesNotThrowAnyException();
    }
}
