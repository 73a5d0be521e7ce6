package dev.reliablestore.cli;

import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.Watch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** {@code watch}: the change feed of a cluster-registry store, one line per entity change, until stopped. */
@Command(name = "watch", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Print every change to the store's entities as it is committed: time, event (saved, deleted, cleared, "
                + "resync), type, id, version and commit sequence, tab-separated (or one JSON object per line with --json). "
                + "Runs until Ctrl-C or SIGTERM, or until --max-events / --timeout.",
                "Example: reliablestore watch --store embedded:./data --type Customer"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped by --max-events or --timeout", "1:failed", "2:bad usage (e.g. a file: store, which has no change feed)",
                "130:stopped by Ctrl-C (143 for SIGTERM)"})
final class WatchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--type", paramLabel = "TYPE", description = "Watch this entity type only.")
    String type;

    @Option(names = "--max-events", paramLabel = "N", description = "Stop after N events.")
    Long maxEvents;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Stop after this long (e.g. 30s, 5m).")
    Duration timeout;

    @Option(names = "--json", description = "One JSON object per event and line.")
    boolean json;

    @Override
    public Integer call() throws InterruptedException {
        if (maxEvents != null && maxEvents < 1) {
            throw CliException.usage("--max-events must be 1 or more, got " + maxEvents);
        }
        if (type != null) {
            EntityCommands.checkType(type);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (StoreSession session = StoreSession.open(store.spec(), StoreSession.Access.EXISTING)) {
            ClusterRegistry registry = session.registry("watch");
            StorageLayout layout = session.layout();
            RegistryPath subtree = type == null ? layout.entities() : layout.type(type);
            CountDownLatch stop = new CountDownLatch(1);
            CountDownLatch finished = new CountDownLatch(1);
            AtomicLong events = new AtomicLong();
            Watch watch = registry.watch(subtree, new ChangeListener() {
                @Override
                public void onBatch(ChangeBatch batch) {
                    for (Change c : batch.changes()) {
                        if (stop.getCount() == 0) {
                            return;
                        }
                        if (c instanceof Change.ValueSet s && layout.typeOfVersionsKey(s.key()) != null) {
                            long version = s.value().value().type() == ValueType.QWORD ? s.value().value().asQword() : -1;
                            emit("saved", layout.typeOfVersionsKey(s.key()), s.name(), version, batch.sequence());
                        } else if (c instanceof Change.ValueDeleted d && layout.typeOfVersionsKey(d.key()) != null) {
                            emit("deleted", layout.typeOfVersionsKey(d.key()), d.name(), -1, batch.sequence());
                        } else if (c instanceof Change.KeyDeleted d && (d.key().contains(subtree) || layout.typeOfTypeKey(d.key()) != null)) {
                            emit("cleared", layout.typeOfTypeKey(d.key()) == null ? "*" : d.key().name(), "*", -1, batch.sequence());
                        }
                    }
                }

                @Override
                public void onResync(String reason) {
                    emit("resync", "*", "*", -1, -1);
                    synchronized (err) {
                        err.println("warning: changes may have been missed (" + reason + ")");
                        err.flush();
                    }
                }

                private void emit(String event, String type, String id, long version, long sequence) {
                    String time = Instant.now().toString();
                    synchronized (out) {
                        if (json) {
                            out.println(Json.write(Json.object("time", time, "event", event, "type", type, "id", id,
                                    "version", version < 0 ? null : version, "sequence", sequence < 0 ? null : sequence)));
                        } else {
                            out.println(time + "\t" + event + "\t" + type + "\t" + id + "\t" + (version < 0 ? "-" : "v" + version)
                                    + "\t" + (sequence < 0 ? "-" : "seq " + sequence));
                        }
                        out.flush();
                    }
                    long seen = events.incrementAndGet();
                    if (maxEvents != null && seen >= maxEvents) {
                        stop.countDown();
                    }
                }
            });
            Thread onSignal = new Thread(() -> {
                stop.countDown();
                try {
                    finished.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "reliablestore-watch-stop");
            Runtime.getRuntime().addShutdownHook(onSignal);
            try {
                synchronized (err) {
                    err.println("watching " + session.describe() + "/" + (type == null ? StorageLayout.ENTITIES : StorageLayout.ENTITIES + "/" + type)
                            + " from sequence " + watch.startSequence() + " (Ctrl-C to stop)");
                    err.flush();
                }
                if (timeout == null) {
                    stop.await();
                } else {
                    stop.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
                }
            } finally {
                watch.close();
                synchronized (err) {
                    err.println("stopped after " + events.get() + " event(s)");
                    err.flush();
                }
                finished.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(onSignal);
                } catch (IllegalStateException shuttingDown) {
                    // stopped by a signal: the JVM exits with the signal's status once the hook returns
                }
            }
        }
        return ExitCodes.OK;
    }
}
