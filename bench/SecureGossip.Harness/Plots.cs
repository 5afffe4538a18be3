using System.Text.Json.Nodes;

namespace SecureGossip.Harness;

/// <summary>Delivery-over-time plots (PNG, ScottPlot) from the delivery curves the scenarios record.</summary>
internal static class Plots
{
    /// <summary>One line per series: x = ms since the phase started, y = % of the needed deliveries done.</summary>
    public static void DeliveryCurves(string path, string title, IEnumerable<(string Label, JsonArray Curve)> series)
    {
        var plot = new ScottPlot.Plot();
        foreach ((string label, JsonArray curve) in series)
        {
            double[] xs = [.. curve.Select(p => Value(p![0]!))];
            double[] ys = [.. curve.Select(p => Value(p![1]!) * 100)];
            if (xs.Length == 0)
            {
                continue;
            }

            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = label;
            line.LineWidth = 2;
        }

        plot.Title(title);
        plot.XLabel("time since publish (ms)");
        plot.YLabel("deliveries done (%)");
        plot.Axes.SetLimitsY(0, 102);
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 1000, 560);
    }

    private static double Value(JsonNode node) => double.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
}
