using System.Text.Json.Nodes;
using ScottPlot; // the Multiplot extension methods

namespace SecureGossip.Harness;

/// <summary>Delivery-over-time, line and bar plots (PNG, ScottPlot) from the figures the scenarios record.</summary>
internal static class Plots
{
    private const string TimeLabel = "time since publish (ms)";
    private const string DoneLabel = "deliveries done (%)";

    /// <summary>One line per series: x = ms since the phase started, y = % of the needed deliveries done.</summary>
    public static void DeliveryCurves(string path, string title, IEnumerable<(string Label, JsonArray Curve)> series) =>
        Curves(path, title, series.Select(s => (s.Label, (double[])[.. s.Curve.Select(p => Value(p![0]!))], (double[])[.. s.Curve.Select(p => Value(p![1]!) * 100)])));

    /// <summary>One line per series: x = ms since publish, y = % of the needed deliveries done.</summary>
    public static void Curves(string path, string title, IEnumerable<(string Label, double[] Ms, double[] Percent)> series)
    {
        var plot = new ScottPlot.Plot();
        DrawCurves(plot, title, series);
        plot.SavePng(path, 1000, 560);
    }

    /// <summary>Several delivery-curve panels in one PNG, <paramref name="columns"/> to a row.</summary>
    public static void CurveGrid(string path, int columns, IReadOnlyList<(string Title, IEnumerable<(string Label, double[] Ms, double[] Percent)> Series)> panels)
    {
        var multiplot = new ScottPlot.Multiplot();
        multiplot.AddPlots(panels.Count);
        int rows = (panels.Count + columns - 1) / columns;
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        for (int i = 0; i < panels.Count; i++)
        {
            DrawCurves(multiplot.GetPlot(i), panels[i].Title, panels[i].Series);
        }

        multiplot.SavePng(path, 1400, 520 * rows);
    }

    /// <summary>
    /// Panels of line series (x, y) in one PNG, <paramref name="columns"/> to a row, each panel with its own title
    /// and axis labels; series are told apart by colour and by a solid, dashed or dotted line, so identical series
    /// still show. <c>LogY</c>: a logarithmic y axis (values of 0 or less are left out).
    /// </summary>
    public static void LineGrid(string path, int columns, IReadOnlyList<(string Title, string XLabel, string YLabel, bool LogY, IEnumerable<(string Label, double[] Xs, double[] Ys)> Series)> panels)
    {
        ScottPlot.LinePattern[] patterns = [ScottPlot.LinePattern.Solid, ScottPlot.LinePattern.Dashed, ScottPlot.LinePattern.Dotted];
        var multiplot = new ScottPlot.Multiplot();
        multiplot.AddPlots(panels.Count);
        int rows = (panels.Count + columns - 1) / columns;
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        for (int i = 0; i < panels.Count; i++)
        {
            ScottPlot.Plot plot = multiplot.GetPlot(i);
            int s = 0;
            foreach ((string label, double[] xs, double[] ys) in panels[i].Series)
            {
                double[] values = panels[i].LogY ? [.. ys.Select(y => y > 0 ? Math.Log10(y) : double.NaN)] : ys;
                var line = plot.Add.ScatterLine(xs, values);
                line.LegendText = label;
                line.LineWidth = 2;
                line.LinePattern = patterns[s++ % patterns.Length];
            }

            if (panels[i].LogY)
            {
                plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
                {
                    MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                    IntegerTicksOnly = true,
                    LabelFormatter = y => Math.Pow(10, y).ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
                };
            }

            plot.Title(panels[i].Title);
            plot.XLabel(panels[i].XLabel);
            plot.YLabel(panels[i].YLabel);
            plot.ShowLegend(ScottPlot.Edge.Right); // beside the data, never over a line
        }

        multiplot.SavePng(path, 1400, 520 * rows);
    }

    /// <summary>Grouped bars: one group per category, one bar per series in each, each bar labelled with its value.</summary>
    public static void Bars(string path, string title, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<(string Label, double[] Values)> series, string valueFormat)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<ScottPlot.Bar>();
        int width = series.Count + 1; // a gap of one bar between groups
        for (int s = 0; s < series.Count; s++)
        {
            ScottPlot.Color color = palette.GetColor(s);
            for (int c = 0; c < categories.Count; c++)
            {
                double value = series[s].Values[c];
                bars.Add(new ScottPlot.Bar
                {
                    Position = (c * width) + s,
                    Value = value,
                    FillColor = color,
                    Label = value.ToString(valueFormat, System.Globalization.CultureInfo.InvariantCulture),
                });
            }

            plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = series[s].Label, FillColor = color });
        }

        plot.Add.Bars(bars);
        double[] ticks = [.. categories.Select((_, c) => (c * width) + ((series.Count - 1) / 2.0))];
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks, [.. categories]);
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 1000, 560);
    }

    private static void DrawCurves(ScottPlot.Plot plot, string title, IEnumerable<(string Label, double[] Ms, double[] Percent)> series)
    {
        foreach ((string label, double[] xs, double[] ys) in series)
        {
            if (xs.Length == 0)
            {
                continue;
            }

            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = label;
            line.LineWidth = 2;
        }

        plot.Title(title);
        plot.XLabel(TimeLabel);
        plot.YLabel(DoneLabel);
        plot.Axes.SetLimitsY(0, 102);
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
    }

    private static double Value(JsonNode node) => double.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
}
