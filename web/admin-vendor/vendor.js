// What the admin page's Activity view takes from npm, bundled into one ES module that
// confid serves itself (/static/build/admin/vendor.js): Chart.js with only the bar
// chart's parts, and graphql-ws, the graphql-transport-ws client.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export { Chart };
export { createClient } from "graphql-ws";
