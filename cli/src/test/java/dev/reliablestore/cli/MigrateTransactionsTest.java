package dev.reliablestore.cli;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A cluster source holding prepared (in-doubt) transactions: their writes are not in the values a
 * migration copies, and a later recovery commits them into the source only, so the migration refuses.
 */
class MigrateTransactionsTest {

    @TempDir
    Path dir;

    record Account(String owner, long balance) {
    }

    /** Prepares a branch that moves alice's balance, on the store at the tool's default root. */
    private static void prepare(StoreFactory factory, String globalId) {
        TransactionBranch branch = TransactionalResource.from(factory).begin(TransactionId.of(1, globalId, "b1"));
        branch.store(Account.class).save("alice", new Account("alice", 60));
        branch.prepare();
    }

    @Test
    void aSourceWithAPreparedTransactionIsRefusedBeforeAnythingIsCopied() {
        String source = "embedded:" + dir.resolve("source");
        try (StoreFactory f = TestStores.cluster(source)) {
            f.store(Account.class).save("alice", new Account("alice", 100));
            prepare(f, "in-doubt");
        }
        String target = "embedded:" + dir.resolve("target");
        CliProcess.Result r = CliProcess.inProcess("migrate", "--from", source, "--to", target);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(r.err()).as(r.toString()).hasLineCount(1).contains("1 prepared transaction").contains("recover")
                .contains("nothing was copied");
        CliProcess.Result types = CliProcess.inProcess("list", "--store", target);
        assertThat(types.out()).as(types.toString()).doesNotContain("Account");
    }

    /** One prepared while the migration ran (after its copy) fails the verification, and says what was saved. */
    @Test
    void aTransactionPreparedDuringTheCopyFailsTheVerification() {
        String source = "embedded:" + dir.resolve("source");
        try (StoreFactory f = TestStores.cluster(source)) {
            f.store(Account.class).save("alice", new Account("alice", 100));
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine cli = ReliableStoreCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
        MigrateCommand migrate = cli.getSubcommands().get("migrate").getCommand();
        // the embedded directory admits one connection: an application's factory on the tool's own, at the source's root
        migrate.beforeVerifying = registry -> {
            try (StoreFactory app = ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder().clusterName(source)
                    .resourceGroupName(StoreSpec.DEFAULT_RESOURCE_GROUP).registryKeyPath(StoreSpec.DEFAULT_KEY_PATH).build(), registry)) {
                prepare(app, "meanwhile");
            }
        };
        int code = cli.execute("migrate", "--from", source, "--to", "embedded:" + dir.resolve("target"));
        assertThat(code).as(out + "\n" + err).isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString()).contains("after saving 1 entities in the target, which stay").contains("1 prepared transaction")
                .contains("recover");
        assertThat(out.toString()).doesNotContain("verified");
    }
}
