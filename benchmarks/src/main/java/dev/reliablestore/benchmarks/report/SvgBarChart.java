package dev.reliablestore.benchmarks.report;

import java.util.List;
import java.util.Locale;

/**
 * A horizontal bar chart of latencies on a logarithmic axis, as SVG text: one bar per
 * (operation, backend), grouped by operation, with the seed's target for the operation drawn as a
 * thin bar beside each of ReliableStore's bars. A missed target paints the bar red.
 */
public final class SvgBarChart {

    /** What a bar shows. */
    public enum Kind {
        /** ReliableStore, every target of the bar met. */
        OURS,
        /** ReliableStore, a target of the bar missed. */
        OURS_MISSED,
        /** A peer measured in the same run. */
        PEER
    }

    /**
     * One bar.
     *
     * @param group        the operation (a heading above its bars)
     * @param label        the backend or peer
     * @param micros       the latency in µs (> 0)
     * @param kind         colour
     * @param targetMicros the seed's target in µs drawn beside the bar, or null
     */
    public record Bar(String group, String label, double micros, Kind kind, Double targetMicros) {
        public Bar {
            if (!(micros > 0) || Double.isInfinite(micros)) {
                throw new IllegalArgumentException("bar " + group + "/" + label + ": micros = " + micros + " must be a positive number");
            }
            if (targetMicros != null && !(targetMicros > 0)) {
                throw new IllegalArgumentException("bar " + group + "/" + label + ": target = " + targetMicros + " must be positive");
            }
        }
    }

    static final String OURS_COLOUR = "#2b6cb0";
    static final String MISSED_COLOUR = "#d62728";
    static final String PEER_COLOUR = "#9aa5b1";
    static final String TARGET_COLOUR = "#f0a202";

    private static final int LABEL_WIDTH = 300;
    private static final int PLOT_WIDTH = 560;
    private static final int RIGHT_MARGIN = 150;
    private static final int BAR_HEIGHT = 14;
    private static final int TARGET_HEIGHT = 5;
    private static final int ROW = 24;
    private static final int GROUP_HEADER = 22;
    private static final int TOP = 70;

    private SvgBarChart() {
    }

    /** Renders the bars in the given order (bars of one group must be adjacent). */
    public static String render(String title, List<Bar> bars) {
        if (bars.isEmpty()) {
            throw new IllegalArgumentException("a chart needs at least one bar");
        }
        double min = Double.MAX_VALUE;
        double max = 0;
        for (Bar b : bars) {
            min = Math.min(min, b.micros());
            max = Math.max(max, b.micros());
            if (b.targetMicros() != null) {
                min = Math.min(min, b.targetMicros());
                max = Math.max(max, b.targetMicros());
            }
        }
        int lo = (int) Math.floor(Math.log10(min));
        int hi = (int) Math.ceil(Math.log10(max));
        if (hi == lo) {
            hi = lo + 1;
        }
        int groups = 0;
        String last = null;
        for (Bar b : bars) {
            if (!b.group().equals(last)) {
                groups++;
                last = b.group();
            }
        }
        int height = TOP + groups * GROUP_HEADER + bars.size() * ROW + 40;
        int width = LABEL_WIDTH + PLOT_WIDTH + RIGHT_MARGIN;
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"").append(height)
                .append("\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" font-family=\"Helvetica,Arial,sans-serif\" font-size=\"12\">\n");
        s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        s.append(text(10, 22, escape(title), "font-size=\"16\" font-weight=\"bold\""));
        legend(s, 10, 44);
        int plotTop = TOP - 8;
        int plotBottom = height - 30;
        for (int d = lo; d <= hi; d++) {
            double x = x(Math.pow(10, d), lo, hi);
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e2e8f0\"/>%n", x, plotTop, x, plotBottom));
            s.append(text(x, plotBottom + 14, time(Math.pow(10, d)), "text-anchor=\"middle\" fill=\"#4a5568\""));
        }
        int y = TOP;
        last = null;
        for (Bar b : bars) {
            if (!b.group().equals(last)) {
                s.append(text(10, y + 14, escape(b.group()), "font-weight=\"bold\""));
                y += GROUP_HEADER;
                last = b.group();
            }
            double x0 = x(Math.pow(10, lo), lo, hi);
            double x1 = x(b.micros(), lo, hi);
            String colour = switch (b.kind()) {
                case OURS -> OURS_COLOUR;
                case OURS_MISSED -> MISSED_COLOUR;
                case PEER -> PEER_COLOUR;
            };
            s.append(text(LABEL_WIDTH - 8, y + 11, escape(b.label()), "text-anchor=\"end\""));
            s.append(String.format(Locale.ROOT, "<rect class=\"bar\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s: %s</title></rect>%n",
                    x0, y, Math.max(1, x1 - x0), BAR_HEIGHT, colour, escape(b.label()), time(b.micros())));
            String valueText = time(b.micros()) + (b.kind() == Kind.OURS_MISSED ? "  MISSED" : "");
            s.append(text(x1 + 4, y + 11, escape(valueText), b.kind() == Kind.OURS_MISSED ? "fill=\"" + MISSED_COLOUR + "\"" : ""));
            if (b.targetMicros() != null) {
                double xt = x(b.targetMicros(), lo, hi);
                s.append(String.format(Locale.ROOT, "<rect class=\"target\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>seed target %s</title></rect>%n",
                        x0, y + BAR_HEIGHT + 1, Math.max(1, xt - x0), TARGET_HEIGHT, TARGET_COLOUR, time(b.targetMicros())));
                s.append(text(xt + 4, y + BAR_HEIGHT + 7, "seed " + escape(time(b.targetMicros())), "font-size=\"9\" fill=\"#b7791f\""));
            }
            y += ROW;
        }
        s.append("</svg>\n");
        return s.toString();
    }

    private static void legend(StringBuilder s, int x, int y) {
        String[][] items = {{OURS_COLOUR, "ReliableStore"}, {MISSED_COLOUR, "ReliableStore, an issue target MISSED"},
            {PEER_COLOUR, "peer, same run"}, {TARGET_COLOUR, "seed target (upper bound)"}};
        int cx = x;
        for (String[] i : items) {
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>%n", cx, y - 10, i[0]));
            s.append(text(cx + 16, y, i[1], ""));
            cx += 30 + i[1].length() * 7;
        }
        s.append(text(cx, y, "(log scale)", "fill=\"#4a5568\""));
    }

    static double x(double micros, int lo, int hi) {
        return LABEL_WIDTH + (Math.log10(micros) - lo) / (hi - lo) * PLOT_WIDTH;
    }

    /** A latency in the unit that reads best: ns, µs, ms or s. */
    public static String time(double micros) {
        if (micros < 1) {
            return fmt(micros * 1000) + " ns";
        }
        if (micros < 1000) {
            return fmt(micros) + " µs";
        }
        if (micros < 1_000_000) {
            return fmt(micros / 1000) + " ms";
        }
        return fmt(micros / 1_000_000) + " s";
    }

    private static String fmt(double v) {
        if (v >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (v >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String text(double x, double y, String body, String attrs) {
        return String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\"%s>%s</text>%n", x, y, attrs.isEmpty() ? "" : " " + attrs, body);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
