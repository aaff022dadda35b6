// Figma sandbox entry: shows the UI and relays selection/insertion. (Filled in by the plugin issue.)
figma.showUI(__html__, { width: 320, height: 480, themeColors: true });
