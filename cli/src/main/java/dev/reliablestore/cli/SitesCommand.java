package dev.reliablestore.cli;

import dev.reliablestore.cluster.ClusterStoreAdmin;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code sites}: the operations of a multi-site store (docs/geo-replication.md, Operations). */
@Command(name = "sites", mixinStandardHelpOptions = true,
        description = "Operations of a multi-site store (docs/geo-replication.md).",
        subcommands = {SitesCommand.Status.class})
final class SitesCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
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

        @Option(names = "--resource-group", paramLabel = "NAME",
                description = "Resource group of the store's root (the same at every site). Default: " + StoreSpec.DEFAULT_RESOURCE_GROUP + ".")
        String resourceGroup = StoreSpec.DEFAULT_RESOURCE_GROUP;

        @Option(names = "--key-path", paramLabel = "PATH",
                description = "Key path of the store's root below the resource group. Default: Software\\\\ReliableStore\\\\Data.")
        String keyPath = StoreSpec.DEFAULT_KEY_PATH;

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
            RegistryPath root;
            try {
                sites.keySet().forEach(SiteReplication::checkSiteName);
                root = RegistryPath.of(resourceGroup).resolve(RegistryPath.parse(keyPath.replace('\\', '/')));
            } catch (IllegalArgumentException | RegistryArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
            Map<String, String> options = registry.resolved();
            Map<String, ClusterRegistry> open = new TreeMap<>();
            try {
                for (Map.Entry<String, String> site : sites.entrySet()) {
                    open.put(site.getKey(), open(site.getKey(), site.getValue(), options));
                }
                List<SiteLinkStatus> links = ClusterStoreAdmin.siteLinks(root, open, timeout);
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

        private static ClusterRegistry open(String site, String uri, Map<String, String> options) {
            Map<String, String> accepted = new LinkedHashMap<>();
            options.forEach((k, v) -> {
                if (ClusterRegistries.optionNames(uri).contains(k)) {
                    accepted.put(k, v);
                }
            });
            try {
                return ClusterRegistries.open(uri, accepted);
            } catch (RegistryArgumentException e) {
                throw CliException.usage("site " + site + ": " + e.getMessage());
            } catch (RegistryException e) {
                throw CliException.failed("cannot reach site " + site + " (" + uri + "): " + e.getMessage(), e);
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
}
