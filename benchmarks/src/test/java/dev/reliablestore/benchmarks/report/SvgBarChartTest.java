package dev.reliablestore.benchmarks.report;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SvgBarChartTest {

    private static final List<SvgBarChart.Bar> BARS = List.of(
            new SvgBarChart.Bar("Read <cached>", "ours & co", 0.5, SvgBarChart.Kind.OURS, 100.0),
            new SvgBarChart.Bar("Read <cached>", "Caffeine", 0.02, SvgBarChart.Kind.PEER, null),
            new SvgBarChart.Bar("Write", "ours", 150, SvgBarChart.Kind.OURS_MISSED, 20_000.0),
            new SvgBarChart.Bar("Write", "fsync", 110, SvgBarChart.Kind.PEER, null));

    private static Document parse(String svg) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<Element> rects(Document d, String cls) {
        NodeList all = d.getElementsByTagName("rect");
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            if (cls.equals(e.getAttribute("class"))) {
                out.add(e);
            }
        }
        return out;
    }

    @Test
    void drawsOneBarPerValueAndOneTargetPerBarThatHasOne() throws Exception {
        Document d = parse(SvgBarChart.render("t & t", BARS));
        assertThat(rects(d, "bar")).hasSize(4);
        assertThat(rects(d, "target")).hasSize(2);
        assertThat(rects(d, "bar")).extracting(e -> e.getAttribute("fill")).containsExactly(SvgBarChart.OURS_COLOUR,
                SvgBarChart.PEER_COLOUR, SvgBarChart.MISSED_COLOUR, SvgBarChart.PEER_COLOUR);
    }

    @Test
    void barLengthsFollowALogarithmicScale() throws Exception {
        List<Element> bars = rects(parse(SvgBarChart.render("t", BARS)), "bar");
        double caffeine = Double.parseDouble(bars.get(1).getAttribute("width"));
        double ours = Double.parseDouble(bars.get(0).getAttribute("width"));
        double write = Double.parseDouble(bars.get(2).getAttribute("width"));
        double fsync = Double.parseDouble(bars.get(3).getAttribute("width"));
        assertThat(caffeine).isLessThan(ours);
        assertThat(fsync).isLessThan(write);
        // equal ratios give equal differences on a log axis: 0.5/0.02 = 25 and 150/6 = 25
        double perDecade = (write - fsync) / Math.log10(150.0 / 110);
        assertThat(ours - caffeine).isCloseTo(perDecade * Math.log10(25), org.assertj.core.data.Offset.offset(1.0));
    }

    @Test
    void marksMissedBarsInTextAndEscapesLabels() {
        String svg = SvgBarChart.render("t", BARS);
        assertThat(svg).contains("MISSED").contains("ours &amp; co").contains("Read &lt;cached&gt;").doesNotContain("<cached>");
    }

    @Test
    void refusesValuesThatCannotBeDrawnOnALogAxis() {
        assertThatThrownBy(() -> new SvgBarChart.Bar("g", "l", 0, SvgBarChart.Kind.PEER, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("micros = 0.0");
        assertThatThrownBy(() -> SvgBarChart.render("t", List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void formatsTimesInTheUnitThatReadsBest() {
        assertThat(SvgBarChart.time(0.025)).isEqualTo("25.0 ns");
        assertThat(SvgBarChart.time(12.34)).isEqualTo("12.3 µs");
        assertThat(SvgBarChart.time(4_500)).isEqualTo("4.50 ms");
        assertThat(SvgBarChart.time(2_000_000)).isEqualTo("2.00 s");
    }
}
