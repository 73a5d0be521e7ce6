package dev.reliablestore.it.tx;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Narayana transaction over two ReliableStore stores on two embedded registries, with the
 * process killed (Runtime.halt) in the middle of two-phase commit, and Narayana recovery in a fresh
 * JVM: the outcome is what Narayana's log decided, the locks are released, no record is left.
 */
class ClusterCrashRecoveryTest {

    @TempDir
    Path dir;

    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void reap() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private void seed() {
        try (StoreFactory a = TxFixtures.registry(dir.resolve("a")); StoreFactory b = TxFixtures.registry(dir.resolve("b"))) {
            a.store(Account.class).save("alice", new Account("alice", 100));
            b.store(Account.class).save("bob", new Account("bob", 100));
        }
    }

    private int child(String mode) throws IOException, InterruptedException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                ClusterCrashChild.class.getName(), mode, dir.resolve("object-store").toString(),
                dir.resolve("a").toString(), dir.resolve("b").toString());
        Path out = dir.resolve(mode + "-" + children.size() + ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        children.add(p);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(mode + " child did not finish:\n" + Files.readString(out));
        }
        if (p.exitValue() != 0 && p.exitValue() != 3) {
            throw new AssertionError(mode + " child failed with " + p.exitValue() + ":\n" + Files.readString(out));
        }
        return p.exitValue();
    }

    @Test
    void aCrashBetweenPrepareAndCommitIsCommittedByRecovery() throws Exception {
        seed();
        assertThat(child("crash-in-commit")).isEqualTo(3);
        try (StoreFactory a = TxFixtures.registry(dir.resolve("a")); StoreFactory b = TxFixtures.registry(dir.resolve("b"))) {
            assertThat(TxFixtures.resource(a).recover()).as("A is prepared").hasSize(1);
            assertThat(TxFixtures.resource(b).recover()).as("B is prepared").hasSize(1);
            assertThat(a.store(Account.class).get("alice")).map(v -> v.value().balance()).contains(100L);
        }
        assertThat(narayanaLogs()).hasSize(1);

        assertThat(child("recover")).isZero();

        try (StoreFactory a = TxFixtures.registry(dir.resolve("a")); StoreFactory b = TxFixtures.registry(dir.resolve("b"))) {
            assertThat(TxFixtures.resource(a).recover()).isEmpty();
            assertThat(TxFixtures.resource(b).recover()).isEmpty();
            Versioned<Account> alice = a.store(Account.class).get("alice").orElseThrow();
            Versioned<Account> bob = b.store(Account.class).get("bob").orElseThrow();
            assertThat(alice.value().balance()).isEqualTo(70);
            assertThat(bob.value().balance()).isEqualTo(130);
            // the locks are gone: ordinary writes go through
            a.store(Account.class).save("alice", alice.value(), alice.version());
            b.store(Account.class).save("bob", bob.value(), bob.version());
        }
        assertThat(narayanaLogs()).isEmpty();
    }

    @Test
    void aCrashAfterOnlyOnePrepareIsRolledBackEverywhereByRecovery() throws Exception {
        seed();
        assertThat(child("crash-in-prepare")).isEqualTo(3);
        try (StoreFactory a = TxFixtures.registry(dir.resolve("a")); StoreFactory b = TxFixtures.registry(dir.resolve("b"))) {
            assertThat(TxFixtures.resource(a).recover()).as("only A had prepared").hasSize(1);
            assertThat(TxFixtures.resource(b).recover()).isEmpty();
        }
        assertThat(narayanaLogs()).isEmpty();

        assertThat(child("recover")).isZero();

        try (StoreFactory a = TxFixtures.registry(dir.resolve("a")); StoreFactory b = TxFixtures.registry(dir.resolve("b"))) {
            assertThat(TxFixtures.resource(a).recover()).isEmpty();
            Versioned<Account> alice = a.store(Account.class).get("alice").orElseThrow();
            assertThat(alice.value().balance()).isEqualTo(100);
            assertThat(alice.version()).isEqualTo(1);
            assertThat(b.store(Account.class).get("bob")).map(v -> v.value().balance()).contains(100L);
            a.store(Account.class).save("alice", alice.value(), 1); // unlocked
        }
    }

    private List<Path> narayanaLogs() throws IOException {
        Path store = dir.resolve("object-store");
        if (!Files.exists(store)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(store)) {
            return files.filter(Files::isRegularFile).filter(f -> f.toString().contains("AtomicAction")).toList();
        }
    }
}
