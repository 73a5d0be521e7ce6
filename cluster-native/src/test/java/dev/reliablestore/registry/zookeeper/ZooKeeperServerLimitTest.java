package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The registry against a server that keeps ZooKeeper's default {@code jute.maxbuffer} (1,048,575
 * bytes) while this JVM's clients allow 4 MiB: the server runs in a JVM of its own
 * ({@link ZooKeeperServerProcess}), since an in-process server shares the clients' setting.
 */
class ZooKeeperServerLimitTest {

    static {
        ZkTestSupport.init();
    }

    private static final int DEFAULT_MAX_BUFFER = 1_048_575;

    @TempDir
    static Path dir;
    private static ZooKeeperServerProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = new ZooKeeperServerProcess(dir.resolve("zk"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aRequestTheServerDropsForItsSizeFailsOnceWithALimitErrorNamingTheSizes() throws Exception {
        String chroot = ZkTestSupport.freshChroot("server-limit");
        long failover = 10_000;
        // the client's maxRequestBytes (4 MiB, ZkTestSupport) is above the server's jute.maxbuffer
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.connectString(), chroot,
                ZkTestSupport.options("failoverTimeout", String.valueOf(failover)))) {
            RegistryPath k = RegistryPath.of("k");
            long t0 = System.nanoTime();
            // a value travels twice in its multi: about 1.4 MB, over the server's limit
            assertThatThrownBy(() -> r.commit(WriteBatch.builder().setValue(k, "big", RegistryValue.binary(new byte[700_000])).build()))
                    .isInstanceOfSatisfying(RegistryLimitException.class, e -> {
                        assertThat(e.size()).isGreaterThan(DEFAULT_MAX_BUFFER);
                        assertThat(e.limit()).isEqualTo(DEFAULT_MAX_BUFFER);
                        assertThat(e.getMessage()).contains(String.valueOf(e.size())).contains("jute.maxbuffer")
                                .contains("maxRequestBytes").contains(String.valueOf(ZkTestSupport.MAX_BUFFER)).contains("not applied");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("failed once, not after the failover timeout").isLessThan(Duration.ofMillis(failover));
            assertThat(server.log()).as("the server dropped the request for its length").contains("Len error");
            assertThat(r.getValue(k, "big")).isEmpty();
            // positive control: the same registry commits a request under the server's limit
            r.commit(WriteBatch.builder().setValue(k, "small", RegistryValue.binary(new byte[300_000])).build());
            assertThat(r.getValue(k, "small").orElseThrow().value().size()).isEqualTo(300_000);
        }
    }

    @Test
    void withTheDefaultJuteMaxBufferTheValueLimitIs513521BytesAndAValueThatBigFitsAtTheLongestPath() {
        String chroot = ZkTestSupport.freshChroot("value-limit");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.connectString(), chroot,
                ZkTestSupport.options("maxRequestBytes", String.valueOf(DEFAULT_MAX_BUFFER)))) {
            assertThat(r.limits().maxValueSize()).isEqualTo(513_521);
            // 1024 characters of key path (the longest) and a 255-character name
            RegistryPath longest = RegistryPath.of("a".repeat(255), "b".repeat(255), "c".repeat(255), "d".repeat(254), "e");
            assertThat(longest.length()).isEqualTo(RegistryPath.MAX_PATH_LENGTH);
            String name = "n".repeat(RegistryPath.MAX_SEGMENT_LENGTH);
            r.commit(WriteBatch.builder().setValue(longest, name, RegistryValue.binary(new byte[513_521])).build());
            assertThat(r.getValue(longest, name).orElseThrow().value().size()).isEqualTo(513_521);
            // one byte more is refused before sending, saying how to raise the limit
            assertThatThrownBy(() -> r.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.binary(new byte[513_522])).build()))
                    .isInstanceOf(RegistryLimitException.class).hasMessageContaining("513522").hasMessageContaining("513521")
                    .hasMessageContaining("jute.maxbuffer").hasMessageContaining("every ZooKeeper server and client")
                    .hasMessageContaining("maxRequestBytes");
        }
    }

    /**
     * The longest key path (1,024 characters) in 32 segments ({@code 255, 255, 255, 200, 1, ...}), of
     * a character escaped to 5 bytes in znode names and 3 in the change log: every key of it the batch
     * creates adds a create and a KeyCreated record carrying its full path.
     */
    private static RegistryPath deepestWidest() {
        return deepestWidest('\ue000');
    }

    /** As {@link #deepestWidest()}, every segment starting with {@code first}: paths of different firsts share no key. */
    private static RegistryPath deepestWidest(char first) {
        List<String> segments = new ArrayList<>();
        int spare = RegistryPath.MAX_PATH_LENGTH - 2 * RegistryPath.MAX_DEPTH + 1;
        for (int i = 0; i < RegistryPath.MAX_DEPTH; i++) {
            int extra = Math.min(RegistryPath.MAX_SEGMENT_LENGTH - 1, spare);
            spare -= extra;
            segments.add(first + "\ue000".repeat(extra));
        }
        RegistryPath p = RegistryPath.of(segments);
        assertThat(p.length()).isEqualTo(RegistryPath.MAX_PATH_LENGTH);
        return p;
    }

    /**
     * A listing is bounded by no request: a key with 9,500 subkeys of 240 characters lists as 2.3 MB, more than twice
     * the largest request, and must still be read (a busy change-log bucket is listed the same way to be collected).
     */
    @Test
    void aKeyWithMoreSubkeysThanTwoRequestsHoldIsListed() throws Exception {
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.connectString(), "/wide",
                ZkTestSupport.options("maxRequestBytes", String.valueOf(DEFAULT_MAX_BUFFER)))) {
            RegistryPath parent = RegistryPath.of("Wide");
            int n = 9_500;
            for (int i = 0; i < n; ) {
                WriteBatch.Builder b = WriteBatch.builder();
                for (int j = 0; j < 500 && i < n; j++, i++) {
                    b.createKey(parent.child(String.format("%08d", i) + "k".repeat(232)));
                }
                r.commit(b.build());
            }
            assertThat(r.subkeys(parent)).hasSize(n);
        }
    }

    /**
     * A false condition is proved false by a multi that checks every fact the batch rested on, the keys above each
     * value included: for eight values at the longest paths that request is over the servers' limit, and sent it
     * would only drop the connection ("Len error") on every retry until the failover timeout.
     */
    @Test
    void aFalseConditionWhoseProofIsOverTheLimitIsRefusedBeforeSending() throws Exception {
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.connectString(), "/proof",
                ZkTestSupport.options("maxRequestBytes", String.valueOf(DEFAULT_MAX_BUFFER)))) {
            List<RegistryPath> keys = new ArrayList<>();
            WriteBatch.Builder conditions = WriteBatch.builder();
            for (int i = 0; i < 8; i++) {
                RegistryPath key = deepestWidest((char) ('\ue000' + i));
                keys.add(key);
                long revision = r.commit(WriteBatch.builder().setValue(key, "v", RegistryValue.dword(i)).build()).sequence();
                conditions.requireRevision(key, "v", i == 7 ? revision + 1 : revision); // the last one is false
            }
            WriteBatch proved = conditions.setValue(keys.get(0), "w", RegistryValue.dword(1)).build();
            String serverLogBefore = server.log();
            assertThatThrownBy(() -> r.commit(proved)).isInstanceOfSatisfying(RegistryLimitException.class, e -> {
                assertThat(e.size()).isGreaterThan(DEFAULT_MAX_BUFFER);
                assertThat(e.getMessage()).contains("maxRequestBytes").contains("nothing was sent");
            });
            assertThat(server.log().split("Len error", -1).length).as("refused by the client, never sent")
                    .isEqualTo(serverLogBefore.split("Len error", -1).length);
            assertThat(r.keyExists(keys.get(0))).isTrue();
            assertThat(r.getValue(keys.get(0), "w")).isEmpty();
        }
    }

    @Test
    void aValueOfTheLimitBesideManyNewKeysOfTheLongestPathIsRefusedBeforeSendingAndCommitsOnceItsKeysExist() throws Exception {
        // docs/zookeeper-backend.md, "Limits": the value limit leaves room for one new key, not for 32
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.connectString(), "/app",
                ZkTestSupport.options("maxRequestBytes", String.valueOf(DEFAULT_MAX_BUFFER)))) {
            int limit = r.limits().maxValueSize();
            assertThat(limit).isEqualTo(513_521);
            RegistryPath deepest = deepestWidest();
            RegistryPath parent = RegistryPath.of(deepest.segments().subList(0, RegistryPath.MAX_DEPTH - 1));
            RegistryPath grandparent = RegistryPath.of(deepest.segments().subList(0, RegistryPath.MAX_DEPTH - 2));
            String name = "\ue000".repeat(RegistryPath.MAX_SEGMENT_LENGTH);
            WriteBatch big = WriteBatch.builder().setValue(deepest, name, RegistryValue.binary(new byte[limit])).build();
            long before = r.currentSequence();
            String serverLogBefore = server.log();
            // all 32 keys new: the exact request is over maxRequestBytes
            assertThatThrownBy(() -> r.commit(big)).isInstanceOfSatisfying(RegistryLimitException.class, e -> {
                assertThat(e.size()).isGreaterThan(DEFAULT_MAX_BUFFER);
                assertThat(e.limit()).isEqualTo(DEFAULT_MAX_BUFFER);
                assertThat(e.getMessage()).contains(String.valueOf(e.size())).contains(String.valueOf(DEFAULT_MAX_BUFFER))
                        .contains("maxRequestBytes").contains("nothing was sent");
            });
            assertThat(server.log().split("Len error", -1).length).as("refused by the client, never sent")
                    .isEqualTo(serverLogBefore.split("Len error", -1).length);
            assertThat(r.keyExists(RegistryPath.of(deepest.segments().get(0)))).as("nothing written").isFalse();
            assertThat(r.currentSequence()).isEqualTo(before);
            // two new keys of that path are still too many
            r.commit(WriteBatch.builder().createKey(grandparent).build());
            assertThatThrownBy(() -> r.commit(big)).isInstanceOf(RegistryLimitException.class);
            assertThat(r.keyExists(parent)).isFalse();
            // one new key (the value's own) fits
            r.commit(WriteBatch.builder().createKey(parent).build());
            r.commit(big);
            assertThat(r.getValue(deepest, name).orElseThrow().value().size()).isEqualTo(limit);
            // and so does a value on the existing key
            String other = "\ue001".repeat(RegistryPath.MAX_SEGMENT_LENGTH);
            r.commit(WriteBatch.builder().setValue(deepest, other, RegistryValue.binary(new byte[limit])).build());
            assertThat(r.getValue(deepest, other).orElseThrow().value().size()).isEqualTo(limit);
        }
    }
}
