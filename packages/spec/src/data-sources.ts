/** Dataset sources read from the directory in `data.path`. */
export const PATH_SOURCES = ['folder', 'imagefolder', 'cifar10', 'cifar100', 'stl10'] as const;

/** Every `data.source`. */
export const DATA_SOURCES = ['synthetic', 'digits', ...PATH_SOURCES] as const;
