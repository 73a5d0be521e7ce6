package dev.reliablestore.registry.zookeeper;

import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One pass over a subtree comparing every znode's ACL with the policy's and, when fixing, setting it.
 * Level by level, {@value #CHUNK} znodes' {@code getACL} and {@code getChildren} pipelined at a time.
 * A pass that changes nothing proves the subtree protected: a node is only ever created under a parent
 * that already carried the policy's ACL, so only the policy's identity can add nodes to it.
 */
final class AclWalk {

    static final int CHUNK = 500;

    /** A znode whose ACL differed, with the ACL it had. */
    record Mismatch(String znode, List<ACL> acl) {
    }

    /** What a pass found. Read once its future completed. */
    static final class Pass {
        int checked;
        /** Znodes whose ACL differed (when fixing: and was set by this pass; else it would be set). */
        int changed;
        /** Fixing: znodes whose ACL differed but changed or went away before this pass set it; another pass looks again. */
        int raced;
        /** Znodes whose children could not be listed (their ACL grants no READ); checked after their ACL is fixed. */
        int unlisted;
        /** The pass stopped at its limit of znodes. */
        boolean truncated;
        final List<Mismatch> mismatches = new ArrayList<>();
    }

    /** An ACL answer: OK, NONODE or NOAUTH; connection problems fail the future instead. */
    record AclAnswer(KeeperException.Code code, List<ACL> acl, Stat stat) {
    }

    private record ChildrenAnswer(KeeperException.Code code, List<String> names) {
    }

    /** Raised for a znode the configured identity may not read or change the ACL of. */
    interface Refusal {
        RuntimeException notReadable(String znode);

        RuntimeException notChangeable(String znode, List<ACL> acl);
    }

    private final ZooKeeper zk;
    private final AclPolicy policy;
    private final boolean fix;
    private final int limit;
    private final int keep;
    private final Refusal refusal;
    private final Pass pass;
    private final Runnable afterSet;

    private AclWalk(ZooKeeper zk, AclPolicy policy, boolean fix, int limit, int keep, Refusal refusal, Pass pass, Runnable afterSet) {
        this.zk = zk;
        this.policy = policy;
        this.fix = fix;
        this.limit = limit;
        this.keep = keep;
        this.refusal = refusal;
        this.pass = pass;
        this.afterSet = afterSet;
    }

    /**
     * Walks {@code root} and its subtree.
     *
     * @param fix   set the policy's ACL where it differs (else only report)
     * @param limit stop (truncated) before checking more znodes than this
     * @param keep  how many mismatches to keep for the report
     */
    static CompletableFuture<Pass> run(ZooKeeper zk, String root, AclPolicy policy, boolean fix, int limit, int keep, Refusal refusal) {
        return run(zk, root, policy, fix, limit, keep, refusal, new Pass(), () -> { });
    }

    /**
     * {@link #run}, counting into {@code into}, which keeps what the walk did when it fails midway
     * (read it under its lock); {@code afterSet} runs after each ACL it set (tests).
     */
    static CompletableFuture<Pass> run(ZooKeeper zk, String root, AclPolicy policy, boolean fix, int limit, int keep, Refusal refusal,
                                       Pass into, Runnable afterSet) {
        AclWalk w = new AclWalk(zk, policy, fix, limit, keep, refusal, into, afterSet);
        return w.level(List.of(root)).thenApply(v -> w.pass);
    }

    private CompletableFuture<Void> level(List<String> paths) {
        if (paths.isEmpty() || pass.truncated) {
            return CompletableFuture.completedFuture(null);
        }
        return chunk(paths, 0, new ArrayList<>()).thenCompose(this::level);
    }

    private CompletableFuture<List<String>> chunk(List<String> level, int from, List<String> next) {
        if (from >= level.size()) {
            return CompletableFuture.completedFuture(next);
        }
        List<String> paths = level.subList(from, Math.min(level.size(), from + CHUNK));
        if (pass.checked + paths.size() > limit) {
            pass.truncated = true;
            return CompletableFuture.completedFuture(List.of());
        }
        List<CompletableFuture<AclAnswer>> acls = new ArrayList<>(paths.size());
        List<CompletableFuture<ChildrenAnswer>> children = new ArrayList<>(paths.size());
        for (String p : paths) {
            acls.add(getAcl(zk, p));
            children.add(getChildren(p));
        }
        List<CompletableFuture<?>> all = new ArrayList<>(acls);
        all.addAll(children);
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenCompose(v -> {
            List<CompletableFuture<Void>> sets = new ArrayList<>();
            for (int i = 0; i < paths.size(); i++) {
                String p = paths.get(i);
                AclAnswer a = acls.get(i).join();
                if (a.code() == KeeperException.Code.NONODE) {
                    continue; // deleted meanwhile
                }
                if (a.code() == KeeperException.Code.NOAUTH) {
                    throw refusal.notReadable(p);
                }
                pass.checked++;
                boolean wrong = !policy.matches(a.acl());
                if (wrong && !fix) {
                    pass.changed++;
                    if (pass.mismatches.size() < keep) {
                        pass.mismatches.add(new Mismatch(p, a.acl()));
                    }
                } else if (wrong) {
                    // the ACL version guards against a concurrent setACL: then the next pass looks again; only
                    // an ACL this pass set is reported as changed
                    sets.add(setAcl(p, a.acl(), a.stat().getAversion()).thenAccept(set -> {
                        synchronized (pass) {
                            if (set) {
                                pass.changed++;
                                if (pass.mismatches.size() < keep) {
                                    pass.mismatches.add(new Mismatch(p, a.acl()));
                                }
                            } else {
                                pass.raced++;
                            }
                        }
                        if (set) {
                            afterSet.run();
                        }
                    }));
                }
                ChildrenAnswer c = children.get(i).join();
                if (c.code() == KeeperException.Code.OK) {
                    for (String name : c.names()) {
                        next.add(p.equals("/") ? "/" + name : p + "/" + name);
                    }
                } else if (c.code() == KeeperException.Code.NOAUTH) {
                    pass.unlisted++;
                }
            }
            return CompletableFuture.allOf(sets.toArray(CompletableFuture[]::new)).thenCompose(x -> chunk(level, from + CHUNK, next));
        });
    }

    static CompletableFuture<AclAnswer> getAcl(ZooKeeper zk, String path) {
        CompletableFuture<AclAnswer> f = new CompletableFuture<>();
        zk.getACL(path, new Stat(), (AsyncCallback.ACLCallback) (rc, p, ctx, acl, stat) -> {
            KeeperException.Code code = KeeperException.Code.get(rc);
            switch (code) {
                case OK, NONODE, NOAUTH -> f.complete(new AclAnswer(code, acl, stat));
                default -> f.completeExceptionally(KeeperException.create(code, p));
            }
        }, null);
        return f;
    }

    private CompletableFuture<ChildrenAnswer> getChildren(String path) {
        CompletableFuture<ChildrenAnswer> f = new CompletableFuture<>();
        zk.getChildren(path, false, (AsyncCallback.ChildrenCallback) (rc, p, ctx, names) -> {
            KeeperException.Code code = KeeperException.Code.get(rc);
            switch (code) {
                case OK, NONODE, NOAUTH -> f.complete(new ChildrenAnswer(code, names));
                default -> f.completeExceptionally(KeeperException.create(code, p));
            }
        }, null);
        return f;
    }

    /** Sets the policy's ACL if the znode's ACL is still at {@code aclVersion}: true when set, false when it changed or went away. */
    private CompletableFuture<Boolean> setAcl(String path, List<ACL> had, int aclVersion) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        zk.setACL(path, policy.znodeAcl(), aclVersion, (rc, p, ctx, stat) -> {
            KeeperException.Code code = KeeperException.Code.get(rc);
            switch (code) {
                case OK -> f.complete(true);
                case BADVERSION, NONODE -> f.complete(false);
                case NOAUTH -> f.completeExceptionally(refusal.notChangeable(p, had));
                default -> f.completeExceptionally(KeeperException.create(code, p));
            }
        }, null);
        return f;
    }
}
