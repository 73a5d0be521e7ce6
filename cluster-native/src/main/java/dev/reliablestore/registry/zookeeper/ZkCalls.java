package dev.reliablestore.registry.zookeeper;

import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * ZooKeeper's asynchronous calls as futures. Callbacks run on the handle's event thread, in the
 * order the server answered, which is the order the calls were made (one session is FIFO): a
 * pipeline of calls costs one round trip.
 */
final class ZkCalls {

    private ZkCalls() {
    }

    record NodeData(byte[] data, Stat stat) {
    }

    record Children(List<String> names, Stat stat) {
    }

    /** A multi that ZooKeeper refused: the code of the failed op and every op's result. */
    static final class MultiFailure extends Exception {
        private static final long serialVersionUID = 1L;
        final KeeperException.Code code;
        final transient List<OpResult> results;

        MultiFailure(KeeperException.Code code, List<OpResult> results) {
            super("multi failed: " + code, null, false, false);
            this.code = code;
            this.results = results;
        }

        /** Index of the first op that failed (results after it say RUNTIMEINCONSISTENCY), or -1 when unknown. */
        int failedOp() {
            if (results == null) {
                return -1;
            }
            for (int i = 0; i < results.size(); i++) {
                if (results.get(i) instanceof OpResult.ErrorResult e && e.getErr() != KeeperException.Code.OK.intValue()
                        && e.getErr() != KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** The stat, or null when the node does not exist. */
    static CompletableFuture<Stat> exists(ZooKeeper zk, String path) {
        return exists(zk, path, s -> { });
    }

    /** As {@link #exists(ZooKeeper, String)}; {@code seen} gets the answer on the event thread, in answer order. */
    static CompletableFuture<Stat> exists(ZooKeeper zk, String path, java.util.function.Consumer<Stat> seen) {
        CompletableFuture<Stat> f = new CompletableFuture<>();
        zk.exists(path, false, (AsyncCallback.StatCallback) (rc, p, ctx, stat) -> {
            KeeperException.Code code = KeeperException.Code.get(rc);
            if (code == KeeperException.Code.OK) {
                hook(seen, stat);
                f.complete(stat);
            } else if (code == KeeperException.Code.NONODE) {
                hook(seen, null);
                f.complete(null);
            } else {
                f.completeExceptionally(KeeperException.create(code, p));
            }
        }, null);
        return f;
    }

    /** Data and stat, or null when the node does not exist. */
    static CompletableFuture<NodeData> getData(ZooKeeper zk, String path) {
        return getData(zk, path, d -> { });
    }

    /** As {@link #getData(ZooKeeper, String)}; {@code seen} gets the answer on the event thread, in answer order. */
    static CompletableFuture<NodeData> getData(ZooKeeper zk, String path, java.util.function.Consumer<NodeData> seen) {
        CompletableFuture<NodeData> f = new CompletableFuture<>();
        zk.getData(path, false, (rc, p, ctx, data, stat) -> {
            KeeperException.Code code = KeeperException.Code.get(rc);
            if (code == KeeperException.Code.OK) {
                NodeData d = new NodeData(data, stat);
                hook(seen, d);
                f.complete(d);
            } else if (code == KeeperException.Code.NONODE) {
                hook(seen, null);
                f.complete(null);
            } else {
                f.completeExceptionally(KeeperException.create(code, p));
            }
        }, null);
        return f;
    }

    /** Child names and the node's stat, or null when the node does not exist. */
    static CompletableFuture<Children> getChildren(ZooKeeper zk, String path) {
        CompletableFuture<Children> f = new CompletableFuture<>();
        zk.getChildren(path, false, (AsyncCallback.Children2Callback) (rc, p, ctx, children, stat) -> {
            KeeperException.Code code = KeeperException.Code.get(rc);
            if (code == KeeperException.Code.OK) {
                f.complete(new Children(children, stat));
            } else if (code == KeeperException.Code.NONODE) {
                f.complete(null);
            } else {
                f.completeExceptionally(KeeperException.create(code, p));
            }
        }, null);
        return f;
    }

    /** The children of each path, asked for at once (one pipelined round trip); null for a path that does not exist. */
    static CompletableFuture<List<Children>> getChildrenAll(ZooKeeper zk, List<String> paths) {
        List<CompletableFuture<Children>> reads = new ArrayList<>(paths.size());
        for (String p : paths) {
            reads.add(getChildren(zk, p));
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<Children> answers = new ArrayList<>(reads.size());
            for (CompletableFuture<Children> r : reads) {
                answers.add(r.join());
            }
            return answers;
        });
    }

    /** Completes with the results, or exceptionally with {@link MultiFailure} or a {@link KeeperException}. */
    static CompletableFuture<List<OpResult>> multi(ZooKeeper zk, List<Op> ops) {
        return multi(zk, ops, r -> { });
    }

    /** As {@link #multi(ZooKeeper, List)}; {@code applied} gets the results of a successful multi on the event thread, in answer order. */
    static CompletableFuture<List<OpResult>> multi(ZooKeeper zk, List<Op> ops, java.util.function.Consumer<List<OpResult>> applied) {
        CompletableFuture<List<OpResult>> f = new CompletableFuture<>();
        zk.multi(ops, (rc, p, ctx, results) -> {
            KeeperException.Code code = KeeperException.Code.get(rc);
            if (code == KeeperException.Code.OK) {
                hook(applied, results);
                f.complete(results);
            } else if (results != null && !results.isEmpty() && results.get(0) instanceof OpResult.ErrorResult) {
                f.completeExceptionally(new MultiFailure(code, results));
            } else {
                f.completeExceptionally(KeeperException.create(code));
            }
        }, null);
        return f;
    }

    /**
     * Reads the data of {@code paths} in one request (ZooKeeper's multi read, servers 3.6 and later):
     * one packet each way and one pass through the server's pipeline instead of one per path. Each
     * answer is the node's data and stat, or null when it does not exist; {@code seen} gets them on
     * the event thread, in answer order.
     */
    static CompletableFuture<List<NodeData>> getDataAll(ZooKeeper zk, List<String> paths,
                                                        java.util.function.Consumer<List<NodeData>> seen) {
        List<Op> ops = new ArrayList<>(paths.size());
        paths.forEach(p -> ops.add(Op.getData(p)));
        CompletableFuture<List<NodeData>> f = new CompletableFuture<>();
        zk.multi(ops, (rc, p, ctx, results) -> {
            // a read op that fails sets rc too, but the other ops' answers are still there
            if (results == null || results.size() != paths.size()) {
                f.completeExceptionally(KeeperException.create(KeeperException.Code.get(rc)));
                return;
            }
            List<NodeData> answers = new ArrayList<>(paths.size());
            for (int i = 0; i < paths.size(); i++) {
                OpResult r = results.get(i);
                if (r instanceof OpResult.GetDataResult d) {
                    answers.add(new NodeData(d.getData(), d.getStat()));
                } else {
                    KeeperException.Code c = KeeperException.Code.get(((OpResult.ErrorResult) r).getErr());
                    if (c != KeeperException.Code.NONODE) {
                        f.completeExceptionally(KeeperException.create(c, paths.get(i)));
                        return;
                    }
                    answers.add(null);
                }
            }
            hook(seen, answers);
            f.complete(answers);
        }, null);
        return f;
    }

    /** Asks the server to catch up with the leader before the session's next read. */
    static CompletableFuture<Void> sync(ZooKeeper zk, String path) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        zk.sync(path, (rc, p, ctx) -> {
            KeeperException.Code code = KeeperException.Code.get(rc);
            if (code == KeeperException.Code.OK) {
                f.complete(null);
            } else {
                f.completeExceptionally(KeeperException.create(code, p));
            }
        }, null);
        return f;
    }

    /** Runs a hook on the event thread; a failing hook must not leave the call's future incomplete. */
    private static <T> void hook(java.util.function.Consumer<T> hook, T value) {
        try {
            hook.accept(value);
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(ZkCalls.class).warn("a hook on a ZooKeeper answer failed", e);
        }
    }

    /** The root cause of a future's failure. */
    static Throwable unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Whether the failure leaves the outcome of a write unknown (the answer was lost). */
    static boolean isConnectionProblem(Throwable t) {
        if (t instanceof KeeperException ke) {
            return switch (ke.code()) {
                case CONNECTIONLOSS, SESSIONEXPIRED, OPERATIONTIMEOUT, SESSIONMOVED, REQUESTTIMEOUT, NOTREADONLY -> true;
                default -> false;
            };
        }
        if (t instanceof MultiFailure mf) {
            return switch (mf.code) {
                case CONNECTIONLOSS, SESSIONEXPIRED, OPERATIONTIMEOUT, SESSIONMOVED, REQUESTTIMEOUT, NOTREADONLY -> true;
                default -> false;
            };
        }
        return false;
    }
}
