package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.RegistryException;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Checks at open that the chroot is protected as configured, without reading every entity's znode.
 *
 * <p>Checked: the ACL of the chroot, of the store's fixed znodes ({@code data}, {@code seq},
 * {@code log}, {@code feed-horizon}, {@code cluster}, {@code cluster/members}, {@code cluster/election}, {@code faults}) and
 * of the {@value #MARKER} marker, each exactly the policy's ACL, and the marker's record of the scheme
 * and identity it was verified for. The marker stands for the rest of the subtree: it is written by
 * {@link ZooKeeperSecure} after a pass over the whole subtree found nothing to change, and by an open
 * of a chroot without entities after the same check (bounded: such a subtree holds only bookkeeping
 * znodes), which covers a fresh chroot and openers racing to create it. A chroot with entities and
 * no marker may hold open znodes (created before the store was protected), so it is refused.
 *
 * <p>Anyone may create a znode carrying any ACL, so a marker's ACL alone does not say who wrote it:
 * a client that created the chroot first could plant an open entity, then the marker with the
 * policy's ACL, then narrow the parents' ACLs. The marker is therefore created in one {@code multi}
 * with a child {@value #OWNER}: creating a child needs CREATE on the marker, which its ACL grants only
 * the configured identity. A marker counts only while its ACL was never changed (ACL version 0) and it
 * has a child; any other marker is treated as none and replaced when the subtree is verified.
 */
final class AclGuard implements AclWalk.Refusal {

    static final String MARKER = "acl-verified";
    /** The marker's child that proves the configured identity created the marker (see the class comment). */
    static final String OWNER = "owner";
    /** Znodes an open checks one by one before writing the marker of a chroot without entities. */
    static final int UNVERIFIED_WALK_LIMIT = 10_000;
    private static final int MARKER_FORMAT = 2;
    /** Attempts to replace a marker that proves nothing while other openers may be replacing it too. */
    private static final int REPLACE_ATTEMPTS = 5;

    private final ZnodeLayout layout;
    private final AclPolicy policy;
    private final ZooKeeperOptions options;

    AclGuard(ZnodeLayout layout, AclPolicy policy, ZooKeeperOptions options) {
        this.layout = layout;
        this.policy = policy;
        this.options = options;
    }

    String marker() {
        return layout.chroot + "/" + MARKER;
    }

    /** The chroot, then the znodes every store has below it (created at open, checked at open). */
    static List<String> fixedZnodes(ZnodeLayout layout) {
        return List.of(layout.chroot, layout.data, layout.seq, layout.log, layout.feedHorizon, layout.chroot + "/cluster", layout.members, layout.election,
                layout.faults);
    }

    /** Completes when the chroot is protected as configured, else fails with {@link ZooKeeperAclException}. */
    CompletableFuture<Void> check(ZooKeeper zk) {
        List<String> fixed = fixedZnodes(layout);
        List<CompletableFuture<AclWalk.AclAnswer>> acls = new ArrayList<>();
        for (String p : fixed) {
            acls.add(AclWalk.getAcl(zk, p));
        }
        CompletableFuture<AclWalk.AclAnswer> markerAcl = AclWalk.getAcl(zk, marker());
        CompletableFuture<ZkCalls.NodeData> markerData = markerData(zk);
        List<CompletableFuture<?>> all = new ArrayList<>(acls);
        all.add(markerAcl);
        all.add(markerData);
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenCompose(v -> {
            for (int i = 0; i < fixed.size(); i++) {
                AclWalk.AclAnswer a = acls.get(i).join();
                if (a.code() == KeeperException.Code.NONODE) {
                    throw new RegistryException(fixed.get(i) + " is missing: the registry's znodes under " + layout.chroot + " were removed while opening "
                            + options.redactedUri());
                }
                verify(fixed.get(i), a);
            }
            AclWalk.AclAnswer m = markerAcl.join();
            if (m.code() != KeeperException.Code.NONODE) {
                verify(marker(), m);
                if (proven(m)) {
                    verifyRecord(markerData.join());
                    return CompletableFuture.completedFuture(null);
                }
            }
            int entities = acls.get(fixed.indexOf(layout.data)).join().stat().getNumChildren();
            if (entities > 0 && m.code() != KeeperException.Code.NONODE) {
                throw new ZooKeeperAclException("the ACL-verified marker " + marker() + " of " + options.redactedUri() + " does not prove who wrote it"
                        + " (its ACL was changed after it was created, or it has no child " + OWNER + ": written by an earlier version, or by a"
                        + " client that is not " + policy.scheme() + ":" + policy.identity() + "), and the chroot holds data (" + entities
                        + " znode(s) under " + layout.data + ") that may have been created open before it was protected. " + fixHint(), marker(),
                        policy.describe(m.acl()), policy.expected());
            }
            if (entities > 0) {
                throw new ZooKeeperAclException("ZooKeeper chroot " + layout.chroot + " of " + options.redactedUri() + " has no ACL-verified marker "
                        + marker() + " but holds data (" + entities + " znode(s) under " + layout.data + "): it was never verified to carry "
                        + policy.expected() + " on every znode, and znodes created before it was protected may still be open to every client. "
                        + fixHint(), marker(), null, policy.expected());
            }
            return AclWalk.run(zk, layout.chroot, policy, false, UNVERIFIED_WALK_LIMIT, 1, this).thenCompose(pass -> {
                if (!pass.mismatches.isEmpty()) {
                    AclWalk.Mismatch first = pass.mismatches.get(0);
                    throw wrongAcl(first.znode(), first.acl(), pass.changed);
                }
                if (pass.truncated) {
                    throw new ZooKeeperAclException("ZooKeeper chroot " + layout.chroot + " of " + options.redactedUri() + " has no ACL-verified marker "
                            + marker() + " and more than " + UNVERIFIED_WALK_LIMIT + " znodes to check at open. " + fixHint(), marker(), null,
                            policy.expected());
                }
                return writeMarker(zk, "open", pass.checked, false);
            });
        });
    }

    private void verify(String znode, AclWalk.AclAnswer a) {
        if (a.code() == KeeperException.Code.NOAUTH) {
            throw notReadable(znode);
        }
        if (!policy.matches(a.acl())) {
            throw wrongAcl(znode, a.acl(), -1);
        }
    }

    /** The marker's data; null when it is missing or unreadable (its ACL check says why). */
    private CompletableFuture<ZkCalls.NodeData> markerData(ZooKeeper zk) {
        return ZkCalls.getData(zk, marker()).handle((d, t) -> {
            if (t == null || ZkCalls.unwrap(t) instanceof KeeperException.NoAuthException) {
                return d;
            }
            throw new CompletionException(ZkCalls.unwrap(t));
        });
    }

    private Map<String, String> record(ZkCalls.NodeData data) {
        return data == null ? Map.of() : parse(data.data());
    }

    /** Whether the marker's record names the configured scheme and identity. */
    private boolean recordsPolicy(Map<String, String> record) {
        return policy.scheme().equals(record.get("scheme")) && policy.identity().equals(record.get("identity"));
    }

    private void verifyRecord(ZkCalls.NodeData data) {
        Map<String, String> record = record(data);
        if (!recordsPolicy(record)) {
            String recorded = record.containsKey("scheme") ? record.get("scheme") + ":" + record.get("identity") : "nothing readable";
            throw new ZooKeeperAclException("the ACL-verified marker " + marker() + " of " + options.redactedUri() + " records " + recorded
                    + ", not the configured " + policy.scheme() + ":" + policy.identity() + ". " + fixHint(), marker(), policy.describe(null),
                    policy.expected());
        }
    }

    ZooKeeperAclException wrongAcl(String znode, List<ACL> acl, int wrongZnodes) {
        return new ZooKeeperAclException("ZooKeeper chroot " + layout.chroot + " of " + options.redactedUri() + " is not protected as configured: znode "
                + znode + " has ACL " + policy.describe(acl) + ", expected exactly " + policy.expected()
                + (wrongZnodes > 1 ? " (" + wrongZnodes + " znodes differ)" : "") + "; the chroot and every znode below it must carry the configured ACL,"
                + " or clients without the credentials may read and change the store. " + fixHint(), znode, policy.describe(acl), policy.expected());
    }

    @Override
    public ZooKeeperAclException notReadable(String znode) {
        return new ZooKeeperAclException("not authorized to read the ACL of " + znode + " in " + options.redactedUri() + ": it grants "
                + policy.scheme() + ":" + policy.identity() + " neither READ nor ADMIN, so it was not created with the configured credentials;"
                + " only its owner or a ZooKeeper super user can change it (expected " + policy.expected() + ")", znode, policy.describe(null),
                policy.expected());
    }

    @Override
    public ZooKeeperAclException notChangeable(String znode, List<ACL> acl) {
        return new ZooKeeperAclException("not authorized to change the ACL of " + znode + " in " + options.redactedUri() + ": its ACL "
                + policy.describe(acl) + " does not grant ADMIN to " + policy.scheme() + ":" + policy.identity() + "; its owner or a ZooKeeper super"
                + " user must set it to " + policy.expected() + " (or delete it)", znode, policy.describe(acl), policy.expected());
    }

    /** The command that fixes it; the credentials are those of this open, never echoed. */
    String fixHint() {
        boolean digestInUri = !policy.scheme().equals(ZooKeeperOptions.ACL_DIGEST) || options.redactedUri().contains(ZooKeeperOptions.DIGEST.name() + "=");
        return "To protect every znode and write the marker, run: reliablestore zk secure --store " + options.redactedUri()
                + (digestInUri ? "" : " --registry-secret-env " + ZooKeeperOptions.DIGEST.name() + "=VAR (VAR holding " + policy.identity() + ":…)")
                + " (with the same credentials; see docs/zookeeper-backend.md)";
    }

    /**
     * Whether the marker stands for the subtree as an open checks it: there, with the policy's ACL,
     * proven ({@link #proven}) and recording the configured scheme and identity.
     */
    CompletableFuture<Boolean> markerStands(ZooKeeper zk) {
        return AclWalk.getAcl(zk, marker()).thenCombine(markerData(zk), (a, d) -> proven(a) && recordsPolicy(record(d)));
    }

    /**
     * A marker the configured identity wrote: it carries the policy's ACL, which never changed since
     * it was created, and it has a child, which only that identity could create under that ACL.
     */
    private boolean proven(AclWalk.AclAnswer marker) {
        return marker.code() == KeeperException.Code.OK && policy.matches(marker.acl()) && marker.stat().getAversion() == 0
                && marker.stat().getNumChildren() > 0;
    }

    /**
     * Writes the marker (with its {@value #OWNER} child, in one {@code multi}) once the subtree was
     * verified. A marker that proves nothing is replaced in the same {@code multi}; a proven one is
     * left as another opener wrote it, or, when {@code replace}, given the new record.
     */
    CompletableFuture<Void> writeMarker(ZooKeeper zk, String verifiedBy, int znodes, boolean replace) {
        Map<String, String> record = new LinkedHashMap<>();
        record.put("format", String.valueOf(MARKER_FORMAT));
        record.put("scheme", policy.scheme());
        record.put("identity", policy.identity());
        record.put("verifiedBy", verifiedBy);
        record.put("verifiedAt", Instant.now().toString());
        record.put("znodes", String.valueOf(znodes));
        StringBuilder text = new StringBuilder();
        record.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        return writeMarker(zk, text.toString().getBytes(StandardCharsets.UTF_8), replace, REPLACE_ATTEMPTS);
    }

    private CompletableFuture<Void> writeMarker(ZooKeeper zk, byte[] data, boolean replace, int attempts) {
        String owner = marker() + "/" + OWNER;
        return AclWalk.getAcl(zk, marker()).thenCompose(m -> {
            if (m.code() == KeeperException.Code.NOAUTH) {
                throw notReadable(marker());
            }
            if (proven(m)) {
                return replace ? settle(zk, List.of(Op.setData(marker(), data, -1)), data, replace, attempts) : CompletableFuture.completedFuture(null);
            }
            CompletableFuture<List<String>> below = m.code() == KeeperException.Code.NONODE ? CompletableFuture.completedFuture(List.of())
                    : descendants(zk, List.of(marker()), new ArrayList<>());
            return below.thenCompose(paths -> {
                List<Op> ops = new ArrayList<>();
                if (m.code() == KeeperException.Code.OK) {
                    for (int i = paths.size() - 1; i >= 0; i--) { // deepest first
                        ops.add(Op.delete(paths.get(i), -1));
                    }
                    ops.add(Op.delete(marker(), m.stat().getVersion()));
                }
                ops.add(Op.create(marker(), data, policy.znodeAcl(), CreateMode.PERSISTENT));
                ops.add(Op.create(owner, new byte[0], policy.znodeAcl(), CreateMode.PERSISTENT));
                return settle(zk, ops, data, replace, attempts);
            });
        });
    }

    /** Runs the marker's {@code multi}; a race with another opener reads the marker again, anything else names the znode that failed. */
    private CompletableFuture<Void> settle(ZooKeeper zk, List<Op> ops, byte[] data, boolean replace, int attempts) {
        return ZkCalls.multi(zk, ops).<Void>thenApply(r -> null).exceptionallyCompose(t -> {
            Throwable cause = ZkCalls.unwrap(t);
            if (!(cause instanceof ZkCalls.MultiFailure mf)) {
                return CompletableFuture.failedFuture(cause);
            }
            // another opener created, replaced or removed the marker since it was read: read it again
            boolean raced = mf.code == KeeperException.Code.NODEEXISTS || mf.code == KeeperException.Code.NONODE
                    || mf.code == KeeperException.Code.NOTEMPTY || mf.code == KeeperException.Code.BADVERSION;
            if (raced && attempts > 1) {
                return writeMarker(zk, data, replace, attempts - 1);
            }
            int failed = mf.failedOp();
            return CompletableFuture.failedFuture(KeeperException.create(mf.code, failed >= 0 && failed < ops.size() ? ops.get(failed).getPath() : marker()));
        });
    }

    /** Every znode below {@code level}'s, level by level (bounded: below the marker there is one znode unless someone planted more). */
    private CompletableFuture<List<String>> descendants(ZooKeeper zk, List<String> level, List<String> found) {
        if (level.isEmpty()) {
            return CompletableFuture.completedFuture(found);
        }
        return ZkCalls.getChildrenAll(zk, level).thenCompose(answers -> {
            List<String> next = new ArrayList<>();
            for (int i = 0; i < level.size(); i++) {
                ZkCalls.Children c = answers.get(i);
                if (c != null) {
                    for (String name : c.names()) {
                        next.add(level.get(i) + "/" + name);
                    }
                }
            }
            found.addAll(next);
            if (found.size() > UNVERIFIED_WALK_LIMIT) {
                throw new ZooKeeperAclException("the ACL-verified marker " + marker() + " of " + options.redactedUri() + " has more than "
                        + UNVERIFIED_WALK_LIMIT + " znodes below it, which this library never creates; delete it (as its owner or a"
                        + " ZooKeeper super user) and run zk secure", marker(), null, policy.expected());
            }
            return descendants(zk, next, found);
        });
    }

    private static Map<String, String> parse(byte[] data) {
        Map<String, String> record = new LinkedHashMap<>();
        for (String line : new String(data, StandardCharsets.UTF_8).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                record.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return record;
    }
}
