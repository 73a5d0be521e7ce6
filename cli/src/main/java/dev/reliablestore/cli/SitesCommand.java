package dev.reliablestore.cli;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterStoreAdmin;
import dev.reliablestore.cluster.ConflictRecord;
import dev.reliablestore.cluster.CrossSiteConflicts;
import dev.reliablestore.cluster.SiteLinkStatus;
import dev.reliablestore.cluster.geo.SiteReplication;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryPath;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/** {@code sites}: the operations of a multi-site store (docs/geo-replication.md, Operations). */
@Command(name = "sites", mixinStandardHelpOptions = true,
        description = "Operations of a multi-site store (docs/geo-replication.md).",
        subcommands = {SitesCommand.Status.class, SitesCommand.Resync.class, SitesCommand.Conflicts.class})
final class SitesCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    /** The store's root, the same at every site. */
    static final class Root {

        @Option(names = "--resource-group", paramLabel = "NAME",
                description = "Resource group of the store's root (the same at every site). Default: " + StoreSpec.DEFAULT_RESOURCE_GROUP + ".")
        String resourceGroup = StoreSpec.DEFAULT_RESOURCE_GROUP;

        @Option(names = "--key-path", paramLabel = "PATH",
                description = "Key path of the store's root below the resource group. Default: Software\\\\ReliableStore\\\\Data.")
        String keyPath = StoreSpec.DEFAULT_KEY_PATH;

        /** The configuration of the store at the site whose registry is {@code uri}, with the keys given, for a tool. */
        ClusterPersistenceConfiguration.Builder config(String uri, KeyOptions keys) {
            ClusterPersistenceConfiguration.Builder b = ClusterPersistenceConfiguration.builder().clusterName(uri)
                    .resourceGroupName(resourceGroup).registryKeyPath(keyPath);
            keys.spec().keySource().ifPresent(source -> b.enableEncryption(true).keySource(source));
            return b;
        }

        /** @throws IllegalArgumentException saying what is wrong with the names */
        RegistryPath path() {
            try {
                return RegistryPath.of(resourceGroup).resolve(RegistryPath.parse(keyPath.replace('\\', '/')));
            } catch (RegistryArgumentException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
    }

    /** {@code sites status}: per ordered pair of sites, how far one's writes have reached the other. */
    @Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Show, for every ordered pair of sites, how far one site's writes have reached the other: the checkpoint the "
                    + "target keeps, how many batches wait and since when, the health faults about the pair and who ships.",
                    "It writes one bookkeeping value at each site (never shipped) to know where that site's history ends.",
                    "Example: reliablestore sites status --site paris=zookeeper://zk-paris:2181/app --site tokyo=zookeeper://zk-tokyo:2181/app"},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:every pair is up to date and healthy", "1:a site cannot be reached", "2:bad usage",
                    "3:some pair has batches waiting, a fault or a problem"})
    static final class Status implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(names = "--site", paramLabel = "NAME=URI", required = true,
                description = "A site and its registry URI (repeatable; at least two: every site of the store).")
        Map<String, String> sites = new LinkedHashMap<>();

        @Mixin
        Root root = new Root();

        @Mixin
        RegistryOptions registry;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = DurationConverter.class,
                description = "How long reading one site's history for one pair may take. Default: 30s.")
        Duration timeout;

        @Option(names = "--json", description = "Print one JSON object per pair, one per line.")
        boolean json;

        @Override
        public Integer call() {
            if (sites.size() < 2) {
                throw CliException.usage("--site must name every site of the store, at least two; got " + sites.keySet());
            }
            RegistryPath rootPath;
            try {
                sites.keySet().forEach(SiteReplication::checkSiteName);
                rootPath = root.path();
            } catch (IllegalArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
            Map<String, String> options = registry.resolved();
            checkSites(sites, options);
            Map<String, ClusterRegistry> open = new TreeMap<>();
            try {
                for (Map.Entry<String, String> site : sites.entrySet()) {
                    open.put(site.getKey(), open(site.getKey(), site.getValue(), options));
                }
                // a root no site holds a store at (a mistyped --key-path) has no links to judge, and the probe would write there;
                // one empty site among others is a site not yet filled: its links are shown as waiting
                if (open.values().stream().allMatch(r -> ClusterStoreAdmin.of(r, rootPath).layoutVersion().isEmpty())) {
                    throw CliException.failed("sites status: no site holds a store at " + rootPath
                            + " (check --resource-group and --key-path, and each --site); nothing was written");
                }
                List<SiteLinkStatus> links = ClusterStoreAdmin.siteLinks(rootPath, open, timeout);
                PrintWriter out = spec.commandLine().getOut();
                for (SiteLinkStatus l : links) {
                    out.println(json ? json(l) : text(l));
                }
                out.flush();
                return links.stream().allMatch(SiteLinkStatus::healthy) ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
            } catch (RegistryException e) {
                throw CliException.failed("sites status: " + e.getMessage(), e);
            } finally {
                open.values().forEach(ClusterRegistry::close);
            }
        }

        /**
         * Refuses a secret written into a site's URI (as {@code --store} does) and a registry option
         * that no site's backend takes: an option meant for one backend is passed only to the sites of
         * that backend, but one that none takes (a misspelt key) would otherwise change nothing.
         */
        static void checkSites(Map<String, String> sites, Map<String, String> options) {
            Set<String> known = new HashSet<>();
            sites.forEach((site, uri) -> {
                RegistryOptions.refuseSecretLiterals(uri, "--site " + site);
                known.addAll(ClusterRegistries.optionNames(uri));
            });
            for (String key : options.keySet()) {
                if (!known.contains(key)) {
                    throw CliException.usage("registry option " + key + " is not an option of any site's registry backend; they take "
                            + new TreeSet<>(known));
                }
            }
        }

        private static ClusterRegistry open(String site, String uri, Map<String, String> options) {
            Map<String, String> accepted = new LinkedHashMap<>();
            options.forEach((k, v) -> {
                if (ClusterRegistries.optionNames(uri).contains(k)) {
                    accepted.put(k, v);
                }
            });
            try {
                return ClusterRegistries.open(uri, StoreSession.toolRegistryOptions(uri, accepted));
            } catch (RegistryArgumentException e) {
                throw CliException.usage("site " + site + ": " + e.getMessage());
            } catch (RegistryException e) {
                throw CliException.failed("cannot reach site " + site + " (" + ClusterRegistries.redact(uri) + "): " + e.getMessage(), e);
            }
        }

        private static String text(SiteLinkStatus l) {
            StringBuilder b = new StringBuilder(l.from()).append(" -> ").append(l.to()).append(": ");
            b.append(l.healthy() ? "up to date" : l.waiting().map(n -> n + (n >= SiteLinkStatus.COUNT_LIMIT ? "+" : "") + " batch(es) waiting")
                    .orElse("unknown backlog"));
            l.oldestWaiting().ifPresent(t -> b.append(", oldest written ").append(t).append(" (")
                    .append(Duration.between(t, Instant.now()).toMillis()).append(" ms ago)"));
            b.append("; applied up to ").append(l.applied()).append(" of ").append(l.head());
            b.append("; shipper ").append(l.shipper().orElse("none"));
            for (HealthFault f : l.faults()) {
                b.append("\n  fault ").append(f.id()).append(": ").append(f.description());
            }
            l.problem().ifPresent(p -> b.append("\n  problem: ").append(p));
            return b.toString();
        }

        private static String json(SiteLinkStatus l) {
            List<Object> faults = new ArrayList<>();
            l.faults().forEach(f -> faults.add(Json.object("id", f.id(), "description", f.description())));
            return Json.write(Json.object("from", l.from(), "to", l.to(), "healthy", l.healthy(), "applied", l.applied(), "head", l.head(),
                    "waiting", l.waiting().orElse(null), "oldestWaiting", l.oldestWaiting().map(Instant::toString).orElse(null),
                    "shipper", l.shipper().orElse(null), "faults", faults, "problem", l.problem().orElse(null)));
        }
    }

    /** {@code sites conflicts}: the conflict records a site keeps of a type. */
    @Command(name = "conflicts", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"List the conflict records site --site keeps of entity type --type (crossSiteConflicts = ConflictRecord): "
                    + "for each conflict between sites it settled, oldest first, when, the write kept (its site and stamp) and the "
                    + "write that lost, with its value.",
                    "Example: reliablestore sites conflicts --site paris=zookeeper://zk-paris:2181/app --type Order "
                            + "--passphrase-env RS_PASSPHRASE"},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:listed (perhaps none)", "1:the site cannot be reached, or a record cannot be opened", "2:bad usage"})
    static final class Conflicts implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(names = "--site", paramLabel = "NAME=URI", required = true, description = "The site whose records to list, and its registry URI.")
        Map<String, String> site = new LinkedHashMap<>();

        @Option(names = "--type", paramLabel = "TYPE", required = true, description = "The entity type.")
        String type;

        @Mixin
        Root root = new Root();

        @Mixin
        KeyOptions keys = new KeyOptions();

        @Mixin
        RegistryOptions registry;

        @Option(names = "--json", description = "Print one JSON object per record, one per line (the lost value as text).")
        boolean json;

        @Override
        public Integer call() {
            if (site.size() != 1) {
                throw CliException.usage("--site must name one site; got " + site.keySet());
            }
            String name = site.keySet().iterator().next();
            Map<String, String> options = registry.resolved();
            Status.checkSites(site, options);
            ClusterPersistenceConfiguration config;
            try {
                SiteReplication.checkSiteName(name);
                dev.reliablestore.api.EntityIds.requireValidTypeName(type);
                config = root.config(site.get(name), keys).build();
            } catch (ConfigurationException | IllegalArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
            try (ClusterRegistry r = Status.open(name, site.get(name), options)) {
                List<ConflictRecord> records = ClusterStoreAdmin.conflictRecords(config, name, r, type);
                PrintWriter out = spec.commandLine().getOut();
                for (ConflictRecord c : records) {
                    out.println(json ? json(c) : text(c));
                }
                out.flush();
                return ExitCodes.OK;
            } catch (RegistryException | dev.reliablestore.api.PersistenceException e) {
                throw CliException.failed("sites conflicts: " + e.getMessage(), e);
            }
        }

        private static String lostValue(ConflictRecord c) {
            return c.lost().value().map(v -> new String(v, java.nio.charset.StandardCharsets.UTF_8)).orElse(null);
        }

        private static String text(ConflictRecord c) {
            return c.settled() + " " + c.type() + "/" + c.id() + " at " + c.site() + ": kept " + (c.kept().deleted() ? "the delete" : "the write")
                    + " of " + c.kept().site() + " stamped " + c.kept().stamped() + "; lost " + (c.lost().deleted() ? "the delete" : "the write")
                    + " of " + c.lost().site() + " stamped " + c.lost().stamped() + (c.lost().deleted() ? "" : ": " + lostValue(c))
                    + "; version " + c.storedVersion() + " -> " + c.resultVersion();
        }

        private static String json(ConflictRecord c) {
            return Json.write(Json.object("type", c.type(), "id", c.id(), "site", c.site(), "settled", c.settled().toString(),
                    "kept", Json.object("site", c.kept().site(), "stamped", c.kept().stamped().toString(), "deleted", c.kept().deleted()),
                    "lost", Json.object("site", c.lost().site(), "stamped", c.lost().stamped().toString(), "deleted", c.lost().deleted(),
                            "value", lostValue(c)),
                    "storedVersion", c.storedVersion(), "resultVersion", c.resultVersion()));
        }
    }

    /** {@code sites resync}: repairs one site from another. */
    @Command(name = "resync", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Repair site --to from site --from: merge every entity --from holds into --to as a shipped write would be "
                    + "(the later write wins; what --to holds that is later stays), then move --to's checkpoint for --from to where "
                    + "--from's history stood when the repair began; --from's shipper starts again by itself and ships what came after.",
                    "For a site that fell out of another's retained history (site-resync-<site>), one restored from an old copy, "
                    + "or one seeded for the first time. Safe while the sites are in use. Resync from every other site that has "
                    + "writes --to lacks.",
                    "Example: reliablestore sites resync --from paris --to tokyo --site paris=zookeeper://zk-paris:2181/app "
                            + "--site tokyo=zookeeper://zk-tokyo:2181/app --cross-site-conflicts LastWriteWins --passphrase-env RS_PASSPHRASE"},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:repaired", "1:a site cannot be reached, or the repair failed (run it again)", "2:bad usage"})
    static final class Resync implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(names = "--from", paramLabel = "SITE", required = true, description = "The site to repair from.")
        String from;

        @Option(names = "--to", paramLabel = "SITE", required = true, description = "The site to repair.")
        String to;

        @Option(names = "--site", paramLabel = "NAME=URI", required = true,
                description = "A site and its registry URI (repeatable): --from and --to at least.")
        Map<String, String> sites = new LinkedHashMap<>();

        @Mixin
        Root root = new Root();

        @Option(names = "--cross-site-conflicts", paramLabel = "POLICY", required = true,
                description = "The store's crossSiteConflicts: LastWriteWins, ConflictRecord or Merge. What a conflict the repair "
                        + "settles at --to leaves there, as a shipped write would: nothing more, a conflict record, or a merge owed "
                        + "(made by --to's shipper-lease holder). Required: a repair keeps what the store keeps.")
        String crossSiteConflicts;

        @Option(names = "--conflict-resolution-window", paramLabel = "DURATION", converter = DurationConverter.class,
                defaultValue = "24h", description = "The store's conflictResolutionWindow (default: ${DEFAULT-VALUE}, the option's"
                        + " default). A tombstone older than it (and maxClockSkew) is met by a later write as collected, as shipping"
                        + " meets it, so the repair leaves --to as shipping would. 1m..30d.")
        Duration conflictResolutionWindow;

        @Option(names = "--max-clock-skew", paramLabel = "DURATION", converter = DurationConverter.class, defaultValue = "5s",
                description = "The store's maxClockSkew (default: ${DEFAULT-VALUE}, the option's default), added to the window and to "
                        + "--remove-stale-older-than as shipping adds it. 100ms..1h.")
        Duration maxClockSkew;

        @Option(names = "--remove-stale-older-than", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "Also delete at --to the entities --from holds nothing of that were last written longer ago than "
                        + "DURATION, which must be at least the store's conflictResolutionWindow: --from deleted them and no longer "
                        + "keeps the tombstones (or never received them: a write later than the window is refused). For a site restored "
                        + "from a copy older than the window. Each delete is stamped just after the entity's last write, so a write "
                        + "made since anywhere still wins over it; the deletes are not shipped on. At least 1m.")
        Duration removeStaleOlderThan;

        @Mixin
        KeyOptions keys = new KeyOptions();

        @Option(names = "--no-compression", negatable = false,
                description = "Write the repaired values without zstd compression (reading is unaffected).")
        boolean noCompression;

        @Mixin
        RegistryOptions registry;

        @Option(names = "--json", description = "Print the outcome as one JSON object.")
        boolean json;

        @Override
        public Integer call() {
            for (String site : List.of(from, to)) {
                if (!sites.containsKey(site)) {
                    throw CliException.usage("--site must give the registry of site " + site + "; got " + sites.keySet());
                }
            }
            Map<String, String> options = registry.resolved();
            Status.checkSites(sites, options);
            if (from.equals(to)) {
                throw CliException.usage("--from and --to name the same site " + from);
            }
            ClusterPersistenceConfiguration config;
            CrossSiteConflicts conflicts;
            if (conflictResolutionWindow.compareTo(Duration.ofMinutes(1)) < 0 || conflictResolutionWindow.compareTo(Duration.ofDays(30)) > 0) {
                throw CliException.usage("--conflict-resolution-window is " + conflictResolutionWindow + "; a store's window is 1m..30d");
            }
            if (maxClockSkew.compareTo(Duration.ofMillis(100)) < 0 || maxClockSkew.compareTo(Duration.ofHours(1)) > 0) {
                throw CliException.usage("--max-clock-skew is " + maxClockSkew + "; a store's maxClockSkew is 100ms..1h");
            }
            if (removeStaleOlderThan != null && removeStaleOlderThan.compareTo(conflictResolutionWindow) < 0) {
                throw CliException.usage("--remove-stale-older-than is " + removeStaleOlderThan + "; it must be at least the store's "
                        + "conflictResolutionWindow, " + conflictResolutionWindow + " (--conflict-resolution-window)");
            }
            try {
                conflicts = CrossSiteConflicts.ofOptionName(crossSiteConflicts);
                config = root.config(sites.get(from), keys).enableCompression(!noCompression).build();
                SiteReplication.checkSiteName(from);
                SiteReplication.checkSiteName(to);
            } catch (ConfigurationException | IllegalArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
            ClusterRegistry source = null;
            ClusterRegistry target = null;
            try {
                source = Status.open(from, sites.get(from), options);
                if (ClusterStoreAdmin.of(source, config.root()).layoutVersion().isEmpty()) {
                    // ClusterStoreAdmin.resync refuses it too; here before --to is opened, and with the options to check
                    throw CliException.failed("sites resync: nothing to resync from: site " + from + " (" + sites.get(from) + ") holds no store at "
                            + config.root() + " (check --site, --resource-group and --key-path)");
                }
                target = Status.open(to, sites.get(to), options);
                SiteReplication.Resynced r = ClusterStoreAdmin.resync(config, conflicts, conflictResolutionWindow, maxClockSkew,
                        removeStaleOlderThan, removeStaleOlderThan != null, from, source, to, target);
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(Json.write(Json.object("from", from, "to", to, "compared", r.compared(), "differingRanges", r.differing(),
                            "fetched", r.fetched(), "written", r.written(), "stale", r.stale(), "removed", r.removed(),
                            "checkpoint", r.checkpoint(), "hashedAt", new java.util.TreeSet<>(r.hashedAt()))));
                } else {
                    out.println("resynced " + to + " from " + from + ": compared " + r.compared() + " entities, " + r.differing()
                            + " id range(s) differed, fetched " + r.fetched() + ", changed " + r.written() + " at " + to
                            + (removeStaleOlderThan == null ? "" : ", removed " + r.removed() + " of " + r.stale() + " stale")
                            + "; " + to + "'s checkpoint for " + from + " is " + r.checkpoint() + "; range hashes " + hashedBy(r, from)
                            + ", " + hashedBy(r, to));
                }
                out.flush();
                return ExitCodes.OK;
            } catch (RegistryException | IllegalStateException | dev.reliablestore.api.PersistenceException e) {
                throw CliException.failed("sites resync: " + e.getMessage(), e);
            } finally {
                if (target != null) {
                    target.close();
                }
                if (source != null) {
                    source.close();
                }
            }
        }

        /** Where {@code site}'s range hashes were computed. */
        private static String hashedBy(SiteReplication.Resynced r, String site) {
            return r.hashedAt().contains(site) ? "of " + site + " by its shipper-lease holder" : "of " + site + " read here";
        }
    }
}
